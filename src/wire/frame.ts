/**
 * Framing: one frame = a 4-byte big-endian payload length + the payload (one encoded Envelope).
 *
 * TCP delivers a byte stream in arbitrary pieces; the decoder reassembles frames from them. The
 * length prefix is checked against the configured maximum as soon as its 4 bytes are in, before
 * any payload is kept, so a peer claiming a 4 GiB frame costs us nothing but the error (the DESIGN
 * rule "frames over the maximum are refused before they are buffered").
 */
import { ErrorCode, RingwireError } from '../errors/errors.js';

/** Bytes in the length prefix. */
export const FRAME_HEADER_BYTES = 4;

/** Defaults for FrameDecoder, by name. */
export const FRAME_DEFAULTS = Object.freeze({
  /** Largest payload accepted (DESIGN: 1 MiB); larger prefixes are refused with FRAME_TOO_LARGE. */
  maxFrameBytes: 1024 * 1024,
});

/** The largest payload a 4-byte prefix can describe. */
const MAX_PREFIX_VALUE = 0xffff_ffff;

/** Throws unless `n` is a usable frame size limit (a positive integer a 4-byte prefix can carry). */
export function checkMaxFrameBytes(n: number): number {
  if (!Number.isInteger(n) || n < 1 || n > MAX_PREFIX_VALUE) {
    throw new RingwireError(ErrorCode.INVALID_REQUEST, `maxFrameBytes must be an integer in 1..${MAX_PREFIX_VALUE}, got ${n}`);
  }
  return n;
}

/** One frame around `payload`. Copies once; use `encodeFrames` to batch several into one write. */
export function encodeFrame(payload: Uint8Array): Buffer {
  return encodeFrames([payload]);
}

/**
 * Several frames in one buffer, so a batch of messages queued in the same tick costs a single
 * socket write (one syscall) instead of one per message.
 */
export function encodeFrames(payloads: readonly Uint8Array[]): Buffer {
  let total = 0;
  for (const p of payloads) total += FRAME_HEADER_BYTES + p.length;
  const out = Buffer.allocUnsafe(total);
  let at = 0;
  for (const p of payloads) {
    out.writeUInt32BE(p.length, at);
    out.set(p, at + FRAME_HEADER_BYTES);
    at += FRAME_HEADER_BYTES + p.length;
  }
  return out;
}

/** Options of a FrameDecoder. */
export interface FrameDecoderInit {
  /** @default FRAME_DEFAULTS.maxFrameBytes */
  maxFrameBytes?: number;
}

/**
 * Reassembles frames from stream chunks. Not reusable after an error: once `push` has thrown, the
 * stream is out of sync, so every later `push` throws the same error (the owner closes the socket).
 */
export class FrameDecoder {
  private readonly maxFrameBytes: number;
  /** Chunks of an incomplete frame, kept as they arrived (never pre-allocated to the claimed size). */
  private chunks: Buffer[] = [];
  private buffered = 0;
  /** Payload length of the frame being assembled, once its prefix is known; -1 before. */
  private expected = -1;
  private failure: RingwireError | null = null;

  constructor(init: FrameDecoderInit = {}) {
    this.maxFrameBytes = checkMaxFrameBytes(init.maxFrameBytes ?? FRAME_DEFAULTS.maxFrameBytes);
  }

  /** Bytes held for an incomplete frame: what has arrived, never more (tests watch it). */
  get bufferedBytes(): number {
    return this.buffered;
  }

  /**
   * Feeds one chunk and returns the payloads it completed, in order (often none, possibly many).
   * Payloads may share memory with the chunks. Throws FRAME_TOO_LARGE for a prefix above the
   * maximum and PROTOCOL_ERROR for a zero-length frame, which no valid Envelope produces.
   */
  push(chunk: Buffer): Buffer[] {
    if (this.failure !== null) throw this.failure;
    const frames: Buffer[] = [];
    let data = chunk;
    if (this.buffered > 0) {
      this.chunks.push(chunk);
      this.buffered += chunk.length;
      if (this.expected < 0) {
        if (this.buffered < FRAME_HEADER_BYTES) return frames;
        this.expected = this.checkLength(this.peekLength());
      }
      if (this.buffered < FRAME_HEADER_BYTES + this.expected) return frames;
      // The pending frame is complete: join it with the rest of this chunk once, then go on below.
      data = this.chunks.length === 1 ? this.chunks[0]! : Buffer.concat(this.chunks, this.buffered);
      this.chunks = [];
      this.buffered = 0;
      this.expected = -1;
    }
    let at = 0;
    while (data.length - at >= FRAME_HEADER_BYTES) {
      const len = this.checkLength(data.readUInt32BE(at));
      const end = at + FRAME_HEADER_BYTES + len;
      if (end > data.length) {
        this.expected = len;
        break;
      }
      frames.push(data.subarray(at + FRAME_HEADER_BYTES, end));
      at = end;
    }
    if (at < data.length) {
      // Keep the tail as is: copying it would pin nothing less and cost more.
      this.chunks = [data.subarray(at)];
      this.buffered = data.length - at;
    }
    return frames;
  }

  /** Reads the length prefix when it may span several small chunks. */
  private peekLength(): number {
    let value = 0;
    let seen = 0;
    for (const c of this.chunks) {
      for (let i = 0; i < c.length && seen < FRAME_HEADER_BYTES; i++, seen++) value = value * 256 + c[i]!;
      if (seen === FRAME_HEADER_BYTES) break;
    }
    return value;
  }

  private checkLength(len: number): number {
    if (len > this.maxFrameBytes) {
      this.fail(new RingwireError(ErrorCode.FRAME_TOO_LARGE, `frame of ${len} bytes exceeds the maximum of ${this.maxFrameBytes}`));
    }
    if (len === 0) this.fail(new RingwireError(ErrorCode.PROTOCOL_ERROR, 'zero-length frame'));
    return len;
  }

  private fail(err: RingwireError): never {
    this.failure = err;
    this.chunks = [];
    this.buffered = 0;
    this.expected = -1;
    throw err;
  }
}
