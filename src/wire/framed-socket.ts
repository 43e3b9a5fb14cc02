/**
 * A net.Socket speaking Envelopes: the part the client Connection and the server side share.
 *
 * It owns framing, decoding, write coalescing and closing; it knows nothing about requests, hellos
 * or ids beyond passing them through. Everything that can go wrong on the socket is reported to
 * the owner through `events`, never thrown from an event handler, so no peer input can crash the
 * process. Internal to src/wire (not re-exported).
 */
import type { Socket } from 'node:net';
import { ErrorCode, RingwireError } from '../errors/errors.js';
import type { Logger } from '../log/logger.js';
import type { Message } from '../protocol/messages.js';
import { decodeMessage, measureMessage, writeMessage } from './codec.js';
import { FRAME_HEADER_BYTES, FrameDecoder } from './frame.js';

/** Defaults of a FramedSocket, by name. */
export const FRAMED_SOCKET_DEFAULTS = Object.freeze({
  /** After a graceful end, how long the peer gets to close its side before we destroy the socket. */
  lingerMs: 1000,
  /** TCP keep-alive probe delay: finds half-open connections to hosts that vanished. */
  keepAliveMs: 30_000,
});

/** The first buffer of a tick's write: a few small frames fit, and node's pool serves it. */
const OUT_START_BYTES = 512;

/** What a FramedSocket reports to its owner. */
export interface FramedSocketEvents {
  /** A decoded message. Not called after `onProtocolError` or once the socket is closing. */
  onMessage(reqId: number, msg: Message): void;
  /** The peer sent bytes that are not a valid frame/Envelope; the stream is unusable afterwards. */
  onProtocolError(err: RingwireError): void;
  /** The socket closed; `err` is the last socket error, if any. Called exactly once. */
  onClose(err: Error | undefined): void;
}

export interface FramedSocketInit {
  maxFrameBytes: number;
  log: Logger;
}

/** A socket carrying length-prefixed Envelopes, with writes coalesced per tick. */
export class FramedSocket {
  readonly socket: Socket;
  private readonly events: FramedSocketEvents;
  private readonly log: Logger;
  private readonly maxFrameBytes: number;
  private readonly decoder: FrameDecoder;
  /**
   * Frames queued this tick, encoded in place one after another: the next socket write. A new
   * buffer per write (the socket may hold on to the last one), taken from node's pool when small.
   */
  private out: Buffer | null = null;
  private outBytes = 0;
  private flushScheduled = false;
  /** False once we stop accepting input (protocol error, ending, closed). */
  private reading = true;
  private ending = false;
  private isClosed = false;
  private lastError: Error | undefined;
  private lingerTimer: NodeJS.Timeout | undefined;

  constructor(socket: Socket, init: FramedSocketInit, events: FramedSocketEvents) {
    this.socket = socket;
    this.events = events;
    this.log = init.log;
    this.maxFrameBytes = init.maxFrameBytes;
    this.decoder = new FrameDecoder({ maxFrameBytes: init.maxFrameBytes });
    socket.setNoDelay(true);
    socket.setKeepAlive(true, FRAMED_SOCKET_DEFAULTS.keepAliveMs);
    socket.on('data', (chunk: Buffer) => this.onData(chunk));
    socket.on('error', (err: Error) => {
      this.lastError = err;
      this.log.debug('socket error', { err: err.message });
    });
    socket.on('close', () => this.onSocketClose());
  }

  /** Bytes held for an incomplete frame (0 when the input ends on a frame boundary). */
  get bufferedBytes(): number {
    return this.decoder.bufferedBytes;
  }

  /** True until the socket closed or an end/destroy was requested. */
  get isOpen(): boolean {
    return !this.isClosed && !this.ending && !this.socket.destroyed;
  }

  /**
   * Queues one message; every message queued in the same tick leaves in one socket write. Throws
   * synchronously (nothing is queued) when the message cannot be encoded, when it is larger than
   * maxFrameBytes (the peer would refuse it and drop the connection) or when the socket is not open.
   */
  send(reqId: number, msg: Message): void {
    if (!this.isOpen) throw new RingwireError(ErrorCode.CONNECTION_LOST, 'the connection is closed');
    let size: number;
    try {
      size = measureMessage(reqId, msg);
    } catch (err) {
      if (err instanceof RingwireError) throw err;
      throw new RingwireError(ErrorCode.INTERNAL, `cannot encode ${msg.type}: ${String(err)}`, { cause: err });
    }
    if (size > this.maxFrameBytes) {
      throw new RingwireError(ErrorCode.FRAME_TOO_LARGE, `${msg.type} encodes to ${size} bytes, over the maximum of ${this.maxFrameBytes}`);
    }
    const at = this.reserve(FRAME_HEADER_BYTES + size);
    const out = this.out!;
    out.writeUInt32BE(size, at);
    this.outBytes = writeMessage(reqId, msg, out, at + FRAME_HEADER_BYTES);
    if (!this.flushScheduled) {
      this.flushScheduled = true;
      process.nextTick(() => this.flush());
    }
  }

  /** Room for `n` more bytes in the pending write; returns where they go. */
  private reserve(n: number): number {
    const at = this.outBytes;
    const out = this.out;
    if (out !== null && at + n <= out.length) return at;
    // Most writes carry one or two small frames: start at 512 bytes, double when a tick queues more.
    const grown = Buffer.allocUnsafe(Math.max(OUT_START_BYTES, at + n, out === null ? 0 : 2 * out.length));
    if (out !== null && at > 0) out.copy(grown, 0, 0, at);
    this.out = grown;
    return at;
  }

  /** Sends what is queued, then closes gracefully (FIN); destroys after lingerMs if the peer stalls. */
  end(): void {
    if (this.ending || this.isClosed) return;
    this.reading = false;
    this.flush();
    this.ending = true;
    this.socket.end();
    this.lingerTimer = setTimeout(() => this.socket.destroy(), FRAMED_SOCKET_DEFAULTS.lingerMs);
    this.lingerTimer.unref();
  }

  /** Closes at once, dropping anything queued. */
  destroy(): void {
    this.reading = false;
    this.dropQueued();
    this.socket.destroy();
  }

  private flush(): void {
    this.flushScheduled = false;
    const out = this.out;
    const bytes = this.outBytes;
    this.dropQueued();
    if (out === null || bytes === 0 || this.ending || this.isClosed || this.socket.destroyed) return;
    this.socket.write(bytes === out.length ? out : out.subarray(0, bytes));
  }

  private dropQueued(): void {
    this.out = null;
    this.outBytes = 0;
  }

  private onData(chunk: Buffer): void {
    if (!this.reading) return;
    let frames: Buffer[];
    try {
      frames = this.decoder.push(chunk);
    } catch (err) {
      this.protocolError(err);
      return;
    }
    for (const frame of frames) {
      if (!this.reading) return;
      let decoded;
      try {
        decoded = decodeMessage(frame);
      } catch (err) {
        this.protocolError(err);
        return;
      }
      try {
        this.events.onMessage(decoded.reqId, decoded.msg);
      } catch (err) {
        // A bug in our own handler: log it and drop the connection rather than the process.
        this.log.error('message handler threw', { err: String(err) });
        this.destroy();
        return;
      }
    }
  }

  private protocolError(err: unknown): void {
    this.reading = false;
    const e = err instanceof RingwireError ? err : new RingwireError(ErrorCode.PROTOCOL_ERROR, String(err), { cause: err });
    this.events.onProtocolError(e);
  }

  private onSocketClose(): void {
    if (this.isClosed) return;
    this.isClosed = true;
    this.reading = false;
    this.dropQueued();
    if (this.lingerTimer !== undefined) clearTimeout(this.lingerTimer);
    try {
      this.events.onClose(this.lastError);
    } catch (err) {
      this.log.error('close handler threw', { err: String(err) });
    }
  }
}
