/**
 * The server side of a connection: answers the hello, then dispatches every request to a handler
 * and sends the answer back under the request's id, many requests in flight at once.
 *
 * A misbehaving client (garbage bytes, an oversized length prefix, a reply where a request belongs,
 * a request before its hello, no hello at all) gets one `error` frame naming the problem and is
 * disconnected. That is all it can achieve: nothing it sends escapes as an exception, so the
 * process and every other connection carry on.
 */
import type { Socket } from 'node:net';
import { ErrorCode, RingwireError } from '../errors/errors.js';
import { silentLogger } from '../log/logger.js';
import type { Logger } from '../log/logger.js';
import { PROTOCOL_VERSION, isOneWay, isRequest } from '../protocol/messages.js';
import type { Hello, HelloAck, Message, PeerRef, Request, Response } from '../protocol/messages.js';
import { validatePeerRef } from './address.js';
import { clientProof, isNonce, newNonce, proofMatches, serverProof, type ClusterSecret } from './auth.js';
import { FRAME_DEFAULTS, checkMaxFrameBytes } from './frame.js';
import { FramedSocket } from './framed-socket.js';

/** Defaults of serveConnection, by name. */
export const SERVE_DEFAULTS = Object.freeze({
  /** A client that has not completed its hello by then is disconnected (frees the socket). */
  helloTimeoutMs: 10_000,
  /** Largest frame accepted or sent (DESIGN: 1 MiB). */
  maxFrameBytes: FRAME_DEFAULTS.maxFrameBytes,
  /** Frames a client may pipeline behind its hello while onHello runs; more is a protocol error. */
  maxFramesBeforeAck: 256,
  /** A frame that stays incomplete this long (client sent part of it, then stalled) closes the connection. */
  frameTimeoutMs: 10_000,
  /** Requests of one connection handled at once; at the limit the socket is paused (back-pressure). */
  maxInFlight: 256,
});

/** What a request handler learns about the connection it came in on. */
export interface RequestContext {
  /** The peer named in the client's hello; null for plain clients (CLI, bench, registry users). */
  peer: PeerRef | null;
  /** The socket's remote `ip:port` (not the peer's listening address), for logs. */
  remoteAddress: string;
}

/** Options of serveConnection. */
export interface ServeInit {
  /**
   * Accepts a hello (its version already checked against PROTOCOL_VERSION and its peer, when set,
   * validated) and returns the helloAck to send. Throwing a RingwireError refuses the client with
   * an `error` carrying its code (INTERNAL for anything else), then closes the socket.
   */
  onHello(hello: Hello): HelloAck | Promise<HelloAck>;
  /**
   * Answers one request, at once or through a promise. A thrown/rejected RingwireError is sent as
   * an `error` reply with its code; anything else as INTERNAL (details only in the log). The
   * connection stays up either way.
   */
  onRequest(req: Request, ctx: RequestContext): Response | Promise<Response>;
  /** @default SERVE_DEFAULTS.maxFrameBytes */
  maxFrameBytes?: number;
  /** @default SERVE_DEFAULTS.helloTimeoutMs */
  helloTimeoutMs?: number;
  /** @default SERVE_DEFAULTS.frameTimeoutMs */
  frameTimeoutMs?: number;
  /** @default SERVE_DEFAULTS.maxInFlight */
  maxInFlight?: number;
  /** @default silentLogger */
  log?: Logger;
  /** Called with the error code each time a client is refused (metrics count them by reason). */
  onRefuse?: (code: string) => void;
  /**
   * Hears of every request as it settles, before its reply is sent: the response, or undefined
   * and what the handler threw, and the handler's time in seconds. For metrics; told here rather
   * than by wrapping onRequest, which would cost a promise and a microtask per request.
   */
  onSettled?: (req: Request, res: Response | undefined, error: unknown, seconds: number) => void;
  /**
   * The cluster secret: a client must answer the challenge in the hello exchange (wire/auth.ts)
   * before any request is handled; one without the secret, or with another, gets AUTH_FAILED and
   * is disconnected. Unset: any client that speaks the protocol is served.
   */
  secret?: ClusterSecret;
}

/** A handle on one served connection, so the owning server can track and close it. */
export interface ServedConnection {
  /** The peer from the hello, once accepted; null before or for plain clients. */
  readonly peer: PeerRef | null;
  /** Requests received and not answered yet. */
  readonly inFlight: number;
  /** Resolves once the socket has closed; never rejects. */
  readonly closed: Promise<void>;
  /** Closes gracefully: frames already queued still go out; answers still being computed are dropped. */
  close(): Promise<void>;
}

type State = 'awaiting-hello' | 'hello-pending' | 'awaiting-proof' | 'open' | 'closing';

/**
 * Serves the protocol on an accepted socket (from `net.createServer`). Returns at once; the
 * returned handle reports when the connection is gone. Never throws for anything the client does.
 */
export function serveConnection(socket: Socket, init: ServeInit): ServedConnection {
  return new ServerConnection(socket, init);
}

class ServerConnection implements ServedConnection {
  readonly closed: Promise<void>;
  private resolveClosed!: () => void;
  private readonly init: ServeInit;
  private readonly log: Logger;
  private readonly framed: FramedSocket;
  private readonly remoteAddress: string;
  private state: State = 'awaiting-hello';
  private helloTimer: NodeJS.Timeout | undefined;
  private backlog: Array<[number, Message]> = [];
  private ctx: RequestContext;
  private inFlightCount = 0;
  private readonly frameTimeoutMs: number;
  private readonly maxInFlight: number;
  /** Runs while a frame is incomplete (and reading is not paused by us). */
  private frameTimer: NodeJS.Timeout | undefined;
  /** Frames decoded so far, and that count when frameTimer was (re)started: progress restarts it. */
  private framesSeen = 0;
  private framesAtFrameTimer = 0;
  /** Requests received while maxInFlight were being handled, waiting in arrival order. */
  private waiting: Array<[number, Request]> = [];
  /** True while we paused the socket for back-pressure. */
  private paused = false;
  /** True while `drain` runs (see there). */
  private draining = false;
  /** With a secret: the client's proof we expect after our helloAck. */
  private expectedProof: Uint8Array | undefined;

  constructor(socket: Socket, init: ServeInit) {
    this.init = init;
    this.remoteAddress = `${socket.remoteAddress ?? '?'}:${socket.remotePort ?? '?'}`;
    this.log = (init.log ?? silentLogger).child({ component: 'wire.server', client: this.remoteAddress });
    this.ctx = { peer: null, remoteAddress: this.remoteAddress };
    this.closed = new Promise<void>((resolve) => {
      this.resolveClosed = resolve;
    });
    let maxFrameBytes: number = SERVE_DEFAULTS.maxFrameBytes;
    let helloTimeoutMs: number = SERVE_DEFAULTS.helloTimeoutMs;
    try {
      maxFrameBytes = checkMaxFrameBytes(init.maxFrameBytes ?? SERVE_DEFAULTS.maxFrameBytes);
      helloTimeoutMs = init.helloTimeoutMs ?? SERVE_DEFAULTS.helloTimeoutMs;
    } catch (err) {
      this.log.error('bad serve options, using defaults', { err: String(err) });
    }
    this.frameTimeoutMs = positiveOr(init.frameTimeoutMs, SERVE_DEFAULTS.frameTimeoutMs, 'frameTimeoutMs', this.log);
    this.maxInFlight = positiveOr(init.maxInFlight, SERVE_DEFAULTS.maxInFlight, 'maxInFlight', this.log);
    this.framed = new FramedSocket(socket, { maxFrameBytes, log: this.log }, {
      onMessage: (reqId, msg) => this.onMessage(reqId, msg),
      onProtocolError: (err) => this.refuse(err.code, 0, err.message),
      onClose: () => this.onClose(),
    });
    // Registered after the FramedSocket's own listener, so the chunk has been decoded by now.
    socket.on('data', () => this.watchPartialFrame());
    this.helloTimer = setTimeout(() => {
      this.refuse(ErrorCode.TIMEOUT, 0, `no hello within ${helloTimeoutMs} ms`);
    }, helloTimeoutMs);
    this.helloTimer.unref();
  }

  get peer(): PeerRef | null {
    return this.ctx.peer;
  }

  get inFlight(): number {
    return this.inFlightCount;
  }

  close(): Promise<void> {
    this.state = 'closing';
    this.waiting = [];
    this.clearFrameTimer();
    this.framed.end();
    return this.closed;
  }

  private onMessage(reqId: number, msg: Message): void {
    this.framesSeen++;
    this.handle(reqId, msg);
  }

  private handle(reqId: number, msg: Message): void {
    switch (this.state) {
      case 'awaiting-hello':
        this.onHello(reqId, msg);
        return;
      case 'hello-pending':
        if (this.backlog.length >= SERVE_DEFAULTS.maxFramesBeforeAck) {
          this.refuse(ErrorCode.PROTOCOL_ERROR, 0, `more than ${SERVE_DEFAULTS.maxFramesBeforeAck} frames before the helloAck`);
        } else {
          this.backlog.push([reqId, msg]);
        }
        return;
      case 'awaiting-proof':
        this.onProof(reqId, msg);
        return;
      case 'open':
        if (!isRequest(msg)) {
          this.refuse(ErrorCode.PROTOCOL_ERROR, reqId, `expected a request, got ${msg.type}`);
          return;
        }
        if (this.inFlightCount >= this.maxInFlight || this.waiting.length > 0) {
          // Frames already decoded from the current chunk: keep them, in order, and stop reading.
          this.waiting.push([reqId, msg]);
          this.pause();
          return;
        }
        this.dispatch(reqId, msg);
        return;
      case 'closing':
        return;
    }
  }

  private onHello(reqId: number, msg: Message): void {
    if (msg.type !== 'hello') {
      this.refuse(ErrorCode.PROTOCOL_ERROR, reqId, `expected a hello first, got ${msg.type}`);
      return;
    }
    if (msg.version !== PROTOCOL_VERSION) {
      this.refuse(ErrorCode.VERSION_MISMATCH, reqId, `client speaks protocol version ${msg.version}, this server speaks version ${PROTOCOL_VERSION}`);
      return;
    }
    try {
      if (msg.peer !== null) validatePeerRef(msg.peer, 'hello.peer');
    } catch (err) {
      this.refuse(ErrorCode.INVALID_REQUEST, reqId, (err as Error).message);
      return;
    }
    const secret = this.init.secret;
    if (secret !== undefined && !isNonce(msg.nonce)) {
      this.refuse(ErrorCode.AUTH_FAILED, reqId, 'this server requires the cluster secret: set CHORD_SECRET or --secret-file to the same secret as the cluster');
      return;
    }
    this.state = 'hello-pending';
    let ack: Promise<HelloAck>;
    try {
      ack = Promise.resolve(this.init.onHello(msg));
    } catch (err) {
      ack = Promise.reject(err);
    }
    ack
      .then(
        (helloAck) => this.accept(reqId, msg.peer, secret === undefined ? helloAck : this.challenge(secret, msg.nonce!, helloAck)),
        (err: unknown) => {
          const code = err instanceof RingwireError ? err.code : ErrorCode.INTERNAL;
          if (!(err instanceof RingwireError)) this.log.error('onHello threw', { err: String(err) });
          this.refuse(code, reqId, err instanceof RingwireError ? err.message : 'internal error');
        },
      )
      .catch((err: unknown) => this.internalFailure(err));
  }

  /** Adds our challenge and our proof to the helloAck, and remembers the proof the client owes. */
  private challenge(secret: ClusterSecret, clientNonce: Uint8Array, ack: HelloAck): HelloAck {
    const nonce = newNonce();
    this.expectedProof = clientProof(secret, clientNonce, nonce);
    return { ...ack, nonce, proof: serverProof(secret, clientNonce, nonce) };
  }

  /** The first frame after a challenging helloAck must be the client's valid proof. */
  private onProof(reqId: number, msg: Message): void {
    if (msg.type !== 'authProof' || !proofMatches(this.expectedProof!, msg.proof)) {
      const why = msg.type !== 'authProof' ? `sent ${msg.type} instead of its authentication proof` : 'sent a wrong proof';
      this.refuse(ErrorCode.AUTH_FAILED, reqId, `client ${why}: it does not know the cluster secret (set CHORD_SECRET or --secret-file to the cluster's)`);
      return;
    }
    this.expectedProof = undefined;
    clearTimeout(this.helloTimer);
    this.state = 'open';
  }

  private accept(reqId: number, peer: PeerRef | null, ack: HelloAck): void {
    if (this.state !== 'hello-pending') return;
    try {
      this.framed.send(reqId, ack);
    } catch (err) {
      this.log.error('cannot send the helloAck', { err: String(err) });
      this.refuse(ErrorCode.INTERNAL, reqId, 'internal error');
      return;
    }
    this.ctx = { peer, remoteAddress: this.remoteAddress };
    if (this.expectedProof !== undefined) {
      // The hello timer keeps running until the proof arrives: a client that stops here is dropped too.
      this.state = 'awaiting-proof';
    } else {
      clearTimeout(this.helloTimer);
      this.state = 'open';
    }
    const backlog = this.backlog;
    this.backlog = [];
    for (const [id, m] of backlog) this.handle(id, m);
  }

  /** Back-pressure: no more reading from this client until its requests in flight drop below the limit. */
  private pause(): void {
    if (this.paused) return;
    this.paused = true;
    this.framed.socket.pause();
    // The client cannot complete a frame while we do not read: that stall is ours, not its.
    this.clearFrameTimer();
  }

  /** Starts queued requests while there is room, then reads again once the queue is empty. */
  private drain(): void {
    // A request answered at once settles inside dispatch and calls drain again: that inner call
    // leaves the queue to this loop, or a long queue of such requests would nest one stack frame
    // deeper per request until the stack overflowed.
    if (this.draining) return;
    this.draining = true;
    try {
      while (this.state === 'open' && this.waiting.length > 0 && this.inFlightCount < this.maxInFlight) {
        const [id, req] = this.waiting.shift()!;
        this.dispatch(id, req);
      }
    } finally {
      this.draining = false;
    }
    if (this.paused && this.waiting.length === 0 && this.inFlightCount < this.maxInFlight && this.state !== 'closing') {
      this.paused = false;
      this.framed.socket.resume();
      this.watchPartialFrame();
    }
  }

  /** After each chunk: (re)arm the frame timer while a frame is incomplete, disarm it otherwise. */
  private watchPartialFrame(): void {
    if (this.state === 'closing' || this.paused || this.framed.bufferedBytes === 0) {
      this.clearFrameTimer();
      return;
    }
    if (this.frameTimer !== undefined && this.framesSeen === this.framesAtFrameTimer) return;
    this.clearFrameTimer();
    this.framesAtFrameTimer = this.framesSeen;
    const buffered = this.framed.bufferedBytes;
    this.frameTimer = setTimeout(() => {
      this.frameTimer = undefined;
      this.refuse(ErrorCode.TIMEOUT, 0, `incomplete frame (${buffered}+ bytes) stalled for ${this.frameTimeoutMs} ms`);
    }, this.frameTimeoutMs);
    this.frameTimer.unref();
  }

  private clearFrameTimer(): void {
    if (this.frameTimer !== undefined) {
      clearTimeout(this.frameTimer);
      this.frameTimer = undefined;
    }
  }

  private dispatch(reqId: number, req: Request): void {
    this.inFlightCount++;
    const onSettled = this.init.onSettled;
    const t0 = onSettled ? performance.now() : 0;
    let answer: Response | Promise<Response>;
    try {
      answer = this.init.onRequest(req, this.ctx);
    } catch (err) {
      this.settle(reqId, req, t0, false, undefined, err);
      return;
    }
    if (answer instanceof Promise || typeof (answer as Partial<PromiseLike<Response>>).then === 'function') {
      // One `then` with both outcomes handled inside it, rather than a then/catch/finally/catch
      // chain: two promises per request instead of five or so, on the path of every message.
      void Promise.resolve(answer).then(
        (res) => this.settle(reqId, req, t0, true, res, undefined),
        (err: unknown) => this.settle(reqId, req, t0, false, undefined, err),
      );
    } else {
      // Answered at once (a hop of a recursive lookup): no promise, no microtask.
      this.settle(reqId, req, t0, true, answer, undefined);
    }
  }

  /** A request's outcome: counted, answered unless one-way, and its slot given to the next in line. */
  private settle(reqId: number, req: Request, t0: number, ok: boolean, res: Response | undefined, err: unknown): void {
    const onSettled = this.init.onSettled;
    if (onSettled) {
      // Metrics only: an observer that throws is logged, never allowed to cost the reply.
      try {
        onSettled(req, ok ? res : undefined, err, (performance.now() - t0) / 1000);
      } catch (e) {
        this.log.error('request observer failed', { err: String(e) });
      }
    }
    try {
      // A one-way request (a hop of a recursive lookup) is answered elsewhere or not at all.
      if (isOneWay(req)) {
        if (!ok) this.log.debug(`one-way ${req.type} failed`, { err: String(err) });
      } else if (!ok) this.replyError(reqId, req, err);
      else this.reply(reqId, req, res!);
    } catch (e) {
      this.internalFailure(e);
    }
    this.inFlightCount--;
    try {
      this.drain();
    } catch (e) {
      this.internalFailure(e);
    }
  }

  /** Last line of defence: a bug on our side costs this connection, never the process. */
  private internalFailure(err: unknown): void {
    this.waiting = [];
    this.clearFrameTimer();
    try {
      this.log.error('internal failure, dropping the connection', { err: String(err) });
    } catch {
      // A throwing logger must not turn into an unhandled rejection either.
    }
    this.state = 'closing';
    this.framed.destroy();
  }

  private reply(reqId: number, req: Request, res: Response): void {
    if (!this.framed.isOpen) return;
    if (!isResponse(res)) {
      this.replyError(reqId, req, new Error(`handler for ${req.type} returned ${describe(res)}, not a response`));
      return;
    }
    try {
      this.framed.send(reqId, res);
    } catch (err) {
      this.replyError(reqId, req, err);
    }
  }

  private replyError(reqId: number, req: Request, err: unknown): void {
    if (!this.framed.isOpen) return;
    let reply: Response;
    if (err instanceof RingwireError) {
      reply = { type: 'error', code: err.code, message: err.message };
    } else {
      this.log.error('request handler failed', { type: req.type, err: err instanceof Error ? (err.stack ?? err.message) : String(err) });
      reply = { type: 'error', code: ErrorCode.INTERNAL, message: `internal error handling ${req.type}` };
    }
    try {
      this.framed.send(reqId, reply);
    } catch (sendErr) {
      this.log.error('cannot send an error reply', { err: String(sendErr) });
    }
  }

  /** Protocol violation: tell the client why (best effort), then hang up. */
  private refuse(code: ErrorCode, reqId: number, message: string): void {
    if (this.state === 'closing') return;
    this.state = 'closing';
    this.backlog = [];
    this.waiting = [];
    clearTimeout(this.helloTimer);
    this.clearFrameTimer();
    this.log.warn('refusing client', { code, message });
    this.init.onRefuse?.(code);
    try {
      if (this.framed.isOpen) this.framed.send(reqId, { type: 'error', code, message });
    } catch {
      // The socket is already gone: nothing left to tell.
    }
    this.framed.end();
  }

  private onClose(): void {
    this.state = 'closing';
    this.backlog = [];
    this.waiting = [];
    clearTimeout(this.helloTimer);
    this.clearFrameTimer();
    this.resolveClosed();
  }
}

function isResponse(value: unknown): value is Response {
  if (value === null || typeof value !== 'object') return false;
  const type = (value as { type?: unknown }).type;
  if (typeof type !== 'string' || type === 'hello' || type === 'helloAck' || type === 'authProof') return false;
  return !isRequest(value as Message);
}

function describe(value: unknown): string {
  if (value !== null && typeof value === 'object' && typeof (value as { type?: unknown }).type === 'string') {
    return `a ${(value as { type: string }).type}`;
  }
  return value === null ? 'null' : typeof value;
}

/** `value` when it is a positive integer, else `fallback` (a bad option is logged, never thrown). */
function positiveOr(value: number | undefined, fallback: number, name: string, log: Logger): number {
  if (value === undefined) return fallback;
  if (Number.isInteger(value) && value > 0) return value;
  log.error('bad serve option, using the default', { option: name, value: String(value), default: fallback });
  return fallback;
}
