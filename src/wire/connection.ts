/**
 * The client side of a connection: one TCP socket to one peer, many requests in flight at once,
 * answers matched to requests by id. The hello/helloAck exchange happens inside `connect`, so a
 * Connection you hold has agreed on the protocol version.
 *
 * Request ids are uint32 and wrap; 0 is reserved for the hello exchange and for connection-level
 * errors the server sends before closing, so an answer with id 0 never matches a request.
 */
import type { Socket } from 'node:net';
import { ErrorCode, RemoteError, RingwireError, isErrorCode } from '../errors/errors.js';
import { silentLogger } from '../log/logger.js';
import type { Logger } from '../log/logger.js';
import { PROTOCOL_VERSION, isRequest } from '../protocol/messages.js';
import type { ErrorReply, Message, PeerRef, Request, Response } from '../protocol/messages.js';
import { parseAddr, validatePeerRef } from './address.js';
import { clientProof, newNonce, proofMatches, serverProof, type ClusterSecret } from './auth.js';
import { dial, type TlsConfig } from './tls.js';
import { MAX_REQ_ID } from './codec.js';
import { FRAME_DEFAULTS, checkMaxFrameBytes } from './frame.js';
import { FramedSocket } from './framed-socket.js';

/** Defaults of Connection.connect, by name. */
export const CONNECTION_DEFAULTS = Object.freeze({
  /** Budget for TCP connect plus the hello exchange. */
  connectTimeoutMs: 1000,
  /** Deadline of a request when the caller gives none. */
  requestTimeoutMs: 1000,
  /** Largest frame sent or accepted (DESIGN: 1 MiB). */
  maxFrameBytes: FRAME_DEFAULTS.maxFrameBytes,
});

/** Options of Connection.connect. */
export interface ConnectInit {
  /** Who we are, sent in the hello; null for plain clients (CLI, bench). */
  self: PeerRef | null;
  /** @default CONNECTION_DEFAULTS.connectTimeoutMs */
  connectTimeoutMs?: number;
  /** @default CONNECTION_DEFAULTS.maxFrameBytes */
  maxFrameBytes?: number;
  /** @default CONNECTION_DEFAULTS.requestTimeoutMs */
  requestTimeoutMs?: number;
  /** @default silentLogger */
  log?: Logger;
  /** Aborting it before the helloAck rejects the connect with CLOSED (a pool shutting down). */
  signal?: AbortSignal;
  /**
   * The cluster secret: the hello becomes a mutual challenge-response (wire/auth.ts) and a peer
   * that cannot prove it knows the same secret is refused with AUTH_FAILED. Unset: plain hello.
   */
  secret?: ClusterSecret;
  /** Speak TLS, verifying the server's certificate (wire/tls.ts); unset: plain TCP. */
  tls?: TlsConfig;
}

/** Per-request options (the same shape as the chord Transport's). */
export interface RequestOptions {
  /** Reject with TIMEOUT after this many milliseconds without an answer. */
  timeoutMs?: number;
}

interface Pending {
  resolve(res: Response): void;
  reject(err: Error): void;
  timer: NodeJS.Timeout;
}

interface Handshake {
  resolve(conn: Connection): void;
  reject(err: Error): void;
  timer: NodeJS.Timeout;
}

/** The error a remote's `error` reply stands for; unknown codes become INTERNAL (named in the text). */
export function remoteErrorOf(reply: ErrorReply): RemoteError {
  if (isErrorCode(reply.code)) return new RemoteError(reply.code, reply.message);
  return new RemoteError(ErrorCode.INTERNAL, `remote error ${JSON.stringify(reply.code)}: ${reply.message}`);
}

function checkTimeout(ms: number, what: string): number {
  if (!Number.isFinite(ms) || ms <= 0) throw new RingwireError(ErrorCode.INVALID_REQUEST, `${what} must be a positive number of ms, got ${ms}`);
  return ms;
}

/** A client connection to one peer; obtain one with `Connection.connect`. */
export class Connection {
  /** The `host:port` this connection was opened to. */
  readonly addr: string;
  /** Resolves once the socket has closed, for whatever reason; never rejects. */
  readonly closed: Promise<void>;
  private resolveClosed!: () => void;
  private readonly framed: FramedSocket;
  private readonly log: Logger;
  private readonly requestTimeoutMs: number;
  private readonly pending = new Map<number, Pending>();
  private nextReqId = 1;
  private handshake: Handshake | null = null;
  private tcpConnected = false;
  private open = false;
  /** Why requests fail from now on; set when the connection goes down. */
  private closeReason: RingwireError | null = null;
  private peer: PeerRef | null = null;
  private readonly secret: ClusterSecret | undefined;
  /** Our challenge in the hello (with a secret). */
  private nonce: Uint8Array | undefined;

  /**
   * Opens a TCP connection to `addr` (`host:port`), sends a hello carrying PROTOCOL_VERSION and
   * `init.self`, and resolves once the peer's helloAck arrived. Rejects with UNREACHABLE when TCP
   * cannot connect (refused, no route, timed out), TIMEOUT when the hello gets no answer in time,
   * VERSION_MISMATCH when the peer speaks another version, the peer's code when it answers the
   * hello with an error, PROTOCOL_ERROR for anything else it sends. The whole exchange is bounded
   * by `connectTimeoutMs`.
   */
  static connect(addr: string, init: ConnectInit): Promise<Connection> {
    const hp = parseAddr(addr);
    if (hp === undefined) {
      return Promise.reject(new RingwireError(ErrorCode.UNREACHABLE, `${JSON.stringify(addr)} is not a host:port address`));
    }
    try {
      const connectTimeoutMs = checkTimeout(init.connectTimeoutMs ?? CONNECTION_DEFAULTS.connectTimeoutMs, 'connectTimeoutMs');
      const { socket, readyEvent } = dial(hp.host, hp.port, init.tls);
      return new Connection(addr, socket, init, readyEvent).start(init.self, connectTimeoutMs, init.signal);
    } catch (err) {
      return Promise.reject(err);
    }
  }

  private constructor(addr: string, socket: Socket, init: ConnectInit, readyEvent: 'connect' | 'secureConnect') {
    this.addr = addr;
    this.log = (init.log ?? silentLogger).child({ component: 'wire.connection', remote: addr });
    this.requestTimeoutMs = checkTimeout(init.requestTimeoutMs ?? CONNECTION_DEFAULTS.requestTimeoutMs, 'requestTimeoutMs');
    this.secret = init.secret;
    const maxFrameBytes = checkMaxFrameBytes(init.maxFrameBytes ?? CONNECTION_DEFAULTS.maxFrameBytes);
    this.closed = new Promise<void>((resolve) => {
      this.resolveClosed = resolve;
    });
    socket.once(readyEvent, () => {
      this.tcpConnected = true;
    });
    this.framed = new FramedSocket(socket, { maxFrameBytes, log: this.log }, {
      onMessage: (reqId, msg) => this.onMessage(reqId, msg),
      onProtocolError: (err) => this.fail(err),
      onClose: (err) => this.onClose(err),
    });
  }

  /** The peer's PeerRef from its helloAck (null for a registry or a plain server). */
  get remotePeer(): PeerRef | null {
    return this.peer;
  }

  /** True while requests can be sent (handshake done, not closed or closing). */
  get isOpen(): boolean {
    return this.open && this.framed.isOpen;
  }

  /** Requests waiting for an answer (for stats and tests). */
  get pendingCount(): number {
    return this.pending.size;
  }

  /**
   * Sends `req` and resolves with the matching answer. Rejects with RemoteError(code) when the
   * peer answers with an error (an unknown code becomes INTERNAL), TIMEOUT after `timeoutMs`
   * (a late answer is then dropped quietly), CONNECTION_LOST when the socket closes first, CLOSED
   * after `close()`, FRAME_TOO_LARGE when `req` encodes larger than maxFrameBytes.
   */
  request(req: Request, options: RequestOptions = {}): Promise<Response> {
    if (!this.isOpen) return Promise.reject(this.downError());
    let timeoutMs: number;
    try {
      timeoutMs = checkTimeout(options.timeoutMs ?? this.requestTimeoutMs, 'timeoutMs');
    } catch (err) {
      return Promise.reject(err);
    }
    const reqId = this.allocateReqId();
    return new Promise<Response>((resolve, reject) => {
      const timer = setTimeout(() => {
        if (this.pending.delete(reqId)) {
          reject(new RingwireError(ErrorCode.TIMEOUT, `no answer from ${this.addr} to ${req.type} within ${timeoutMs} ms`));
        }
      }, timeoutMs);
      this.pending.set(reqId, { resolve, reject, timer });
      try {
        this.framed.send(reqId, req);
      } catch (err) {
        clearTimeout(timer);
        this.pending.delete(reqId);
        reject(err);
      }
    });
  }

  /**
   * Sends a one-way request (ONE_WAY_TYPES): queued for this tick's write, nothing awaited. Throws
   * like `request` rejects when the connection is down or the message cannot be encoded.
   */
  send(req: Request): void {
    if (!this.isOpen) throw this.downError();
    this.framed.send(this.allocateReqId(), req);
  }

  /**
   * Closes the connection: pending requests reject with CLOSED, queued frames are still sent.
   * Resolves when the socket has closed. Idempotent.
   */
  close(): Promise<void> {
    if (this.closeReason === null) this.closeReason = new RingwireError(ErrorCode.CLOSED, `connection to ${this.addr} was closed`);
    this.open = false;
    this.rejectAll(this.closeReason);
    this.failHandshake(this.closeReason);
    this.framed.end();
    return this.closed;
  }

  private start(self: PeerRef | null, connectTimeoutMs: number, signal: AbortSignal | undefined): Promise<Connection> {
    const handshake = new Promise<Connection>((resolve, reject) => {
      const timer = setTimeout(() => {
        const err = this.tcpConnected
          ? new RingwireError(ErrorCode.TIMEOUT, `${this.addr} did not answer the hello within ${connectTimeoutMs} ms`)
          : new RingwireError(ErrorCode.UNREACHABLE, `connecting to ${this.addr} timed out after ${connectTimeoutMs} ms`);
        this.fail(err);
      }, connectTimeoutMs);
      this.handshake = { resolve, reject, timer };
      try {
        if (this.secret !== undefined) this.nonce = newNonce();
        this.framed.send(0, { type: 'hello', version: PROTOCOL_VERSION, peer: self, ...(this.nonce ? { nonce: this.nonce } : {}) });
      } catch (err) {
        this.fail(err instanceof RingwireError ? err : new RingwireError(ErrorCode.INTERNAL, String(err)));
      }
    });
    if (signal !== undefined) {
      const abort = (): void => this.fail(new RingwireError(ErrorCode.CLOSED, `connecting to ${this.addr} was aborted`));
      if (signal.aborted) abort();
      else {
        signal.addEventListener('abort', abort, { once: true });
        void this.closed.then(() => signal.removeEventListener('abort', abort));
        void handshake.then(() => signal.removeEventListener('abort', abort), () => undefined);
      }
    }
    return handshake;
  }

  private onMessage(reqId: number, msg: Message): void {
    if (this.handshake !== null) {
      this.onHandshakeMessage(msg);
      return;
    }
    if (reqId === 0 && msg.type === 'error') {
      // The server refuses to go on (it saw garbage from us, or is shutting down) and will close.
      this.log.warn('peer reported a connection error', { code: msg.code, message: msg.message });
      this.closeReason = new RingwireError(isErrorCode(msg.code) ? msg.code : ErrorCode.CONNECTION_LOST, `${this.addr} dropped the connection: ${msg.message}`);
      return;
    }
    if (isRequest(msg) || msg.type === 'hello' || msg.type === 'helloAck' || msg.type === 'authProof') {
      this.fail(new RingwireError(ErrorCode.PROTOCOL_ERROR, `${this.addr} sent an unexpected ${msg.type}`));
      return;
    }
    const p = this.pending.get(reqId);
    if (p === undefined) {
      this.log.debug('dropped an answer nobody waits for (late or unknown)', { reqId, type: msg.type });
      return;
    }
    this.pending.delete(reqId);
    clearTimeout(p.timer);
    if (msg.type === 'error') p.reject(remoteErrorOf(msg));
    else p.resolve(msg);
  }

  private onHandshakeMessage(msg: Message): void {
    const hs = this.handshake!;
    if (msg.type === 'error') {
      const code = isErrorCode(msg.code) ? msg.code : ErrorCode.PROTOCOL_ERROR;
      this.fail(new RingwireError(code, `${this.addr} refused the connection: ${msg.message}`));
      return;
    }
    if (msg.type !== 'helloAck') {
      this.fail(new RingwireError(ErrorCode.PROTOCOL_ERROR, `${this.addr} answered the hello with ${msg.type}`));
      return;
    }
    if (msg.version !== PROTOCOL_VERSION) {
      this.fail(new RingwireError(ErrorCode.VERSION_MISMATCH, `${this.addr} speaks protocol version ${msg.version}, we speak version ${PROTOCOL_VERSION}`));
      return;
    }
    try {
      if (msg.peer !== null) validatePeerRef(msg.peer, 'helloAck.peer');
    } catch (err) {
      this.fail(new RingwireError(ErrorCode.PROTOCOL_ERROR, `${this.addr} sent a bad helloAck: ${(err as Error).message}`));
      return;
    }
    if (this.secret !== undefined && this.nonce !== undefined) {
      const serverNonce = msg.nonce ?? new Uint8Array(0);
      if (serverNonce.length === 0 || !proofMatches(serverProof(this.secret, this.nonce, serverNonce), msg.proof)) {
        this.fail(new RingwireError(ErrorCode.AUTH_FAILED, `${this.addr} did not prove it knows the cluster secret (it runs without one, or with a different one)`));
        return;
      }
      try {
        this.framed.send(0, { type: 'authProof', proof: clientProof(this.secret, this.nonce, serverNonce) });
      } catch (err) {
        this.fail(err instanceof RingwireError ? err : new RingwireError(ErrorCode.INTERNAL, String(err)));
        return;
      }
    }
    this.peer = msg.peer;
    this.open = true;
    this.handshake = null;
    clearTimeout(hs.timer);
    hs.resolve(this);
  }

  /** Takes the connection down with `err` as the reason every waiter sees. */
  private fail(err: RingwireError): void {
    if (this.closeReason === null) this.closeReason = err;
    this.open = false;
    if (err.code === ErrorCode.PROTOCOL_ERROR || err.code === ErrorCode.FRAME_TOO_LARGE) {
      this.log.warn('closing connection after a protocol error', { code: err.code, err: err.message });
    }
    this.failHandshake(this.closeReason);
    this.rejectAll(this.closeReason);
    this.framed.destroy();
  }

  private onClose(err: Error | undefined): void {
    this.open = false;
    if (this.handshake !== null) {
      const why = err !== undefined ? `: ${err.message}` : '';
      this.failHandshake(
        this.tcpConnected
          ? new RingwireError(ErrorCode.CONNECTION_LOST, `${this.addr} closed the connection during the hello${why}`)
          : new RingwireError(ErrorCode.UNREACHABLE, `cannot connect to ${this.addr}${why}`, { cause: err }),
      );
    }
    if (this.closeReason === null) this.closeReason = this.downError(err);
    this.rejectAll(this.closeReason);
    this.resolveClosed();
  }

  private downError(err?: Error): RingwireError {
    if (this.closeReason !== null) return this.closeReason;
    const why = err !== undefined ? `: ${err.message}` : '';
    return new RingwireError(ErrorCode.CONNECTION_LOST, `connection to ${this.addr} lost${why}`);
  }

  private failHandshake(err: Error): void {
    const hs = this.handshake;
    if (hs === null) return;
    this.handshake = null;
    clearTimeout(hs.timer);
    hs.reject(err);
  }

  private rejectAll(err: Error): void {
    if (this.pending.size === 0) return;
    const all = [...this.pending.values()];
    this.pending.clear();
    for (const p of all) {
      clearTimeout(p.timer);
      p.reject(err);
    }
  }

  /** The next free id: uint32, wrapping, never 0 and never one still waiting for its answer. */
  private allocateReqId(): number {
    let id = this.nextReqId;
    while (id === 0 || this.pending.has(id)) id = id >= MAX_REQ_ID ? 1 : id + 1;
    this.nextReqId = id >= MAX_REQ_ID ? 1 : id + 1;
    return id;
  }
}
