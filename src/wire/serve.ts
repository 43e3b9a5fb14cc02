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
import { PROTOCOL_VERSION, isRequest } from '../protocol/messages.js';
import type { Hello, HelloAck, Message, PeerRef, Request, Response } from '../protocol/messages.js';
import { validatePeerRef } from './address.js';
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
   * Answers one request. A thrown/rejected RingwireError is sent as an `error` reply with its
   * code; anything else as INTERNAL (details only in the log). The connection stays up either way.
   */
  onRequest(req: Request, ctx: RequestContext): Promise<Response>;
  /** @default SERVE_DEFAULTS.maxFrameBytes */
  maxFrameBytes?: number;
  /** @default SERVE_DEFAULTS.helloTimeoutMs */
  helloTimeoutMs?: number;
  /** @default silentLogger */
  log?: Logger;
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

type State = 'awaiting-hello' | 'hello-pending' | 'open' | 'closing';

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
    this.framed = new FramedSocket(socket, { maxFrameBytes, log: this.log }, {
      onMessage: (reqId, msg) => this.onMessage(reqId, msg),
      onProtocolError: (err) => this.refuse(err.code, 0, err.message),
      onClose: () => this.onClose(),
    });
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
    this.framed.end();
    return this.closed;
  }

  private onMessage(reqId: number, msg: Message): void {
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
      case 'open':
        if (!isRequest(msg)) {
          this.refuse(ErrorCode.PROTOCOL_ERROR, reqId, `expected a request, got ${msg.type}`);
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
    this.state = 'hello-pending';
    let ack: Promise<HelloAck>;
    try {
      ack = Promise.resolve(this.init.onHello(msg));
    } catch (err) {
      ack = Promise.reject(err);
    }
    ack
      .then(
        (helloAck) => this.accept(reqId, msg.peer, helloAck),
        (err: unknown) => {
          const code = err instanceof RingwireError ? err.code : ErrorCode.INTERNAL;
          if (!(err instanceof RingwireError)) this.log.error('onHello threw', { err: String(err) });
          this.refuse(code, reqId, err instanceof RingwireError ? err.message : 'internal error');
        },
      )
      .catch((err: unknown) => this.internalFailure(err));
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
    clearTimeout(this.helloTimer);
    this.ctx = { peer, remoteAddress: this.remoteAddress };
    this.state = 'open';
    const backlog = this.backlog;
    this.backlog = [];
    for (const [id, m] of backlog) this.onMessage(id, m);
  }

  private dispatch(reqId: number, req: Request): void {
    this.inFlightCount++;
    let answer: Promise<Response>;
    try {
      answer = Promise.resolve(this.init.onRequest(req, this.ctx));
    } catch (err) {
      answer = Promise.reject(err);
    }
    answer
      .then(
        (res) => this.reply(reqId, req, res),
        (err: unknown) => this.replyError(reqId, req, err),
      )
      .catch((err: unknown) => this.internalFailure(err))
      .finally(() => {
        this.inFlightCount--;
      });
  }

  /** Last line of defence: a bug on our side costs this connection, never the process. */
  private internalFailure(err: unknown): void {
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
    clearTimeout(this.helloTimer);
    this.log.warn('refusing client', { code, message });
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
    clearTimeout(this.helloTimer);
    this.resolveClosed();
  }
}

function isResponse(value: unknown): value is Response {
  if (value === null || typeof value !== 'object') return false;
  const type = (value as { type?: unknown }).type;
  if (typeof type !== 'string' || type === 'hello' || type === 'helloAck') return false;
  return !isRequest(value as Message);
}

function describe(value: unknown): string {
  if (value !== null && typeof value === 'object' && typeof (value as { type?: unknown }).type === 'string') {
    return `a ${(value as { type: string }).type}`;
  }
  return value === null ? 'null' : typeof value;
}
