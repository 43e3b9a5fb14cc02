/**
 * Typed errors with stable string codes. Callers (tests, the CLI, remote peers) branch on `code`,
 * never on message text, so codes are part of the public contract: add new ones, never rename.
 */
export const ErrorCode = Object.freeze({
  /** A request got no answer within its deadline. */
  TIMEOUT: 'TIMEOUT',
  /** The connection closed (or could not be opened) before the answer arrived. */
  CONNECTION_LOST: 'CONNECTION_LOST',
  /** The peer could not be reached at all (refused, unreachable, crashed). */
  UNREACHABLE: 'UNREACHABLE',
  /** Bytes on the wire did not decode to a valid message, or arrived out of protocol order. */
  PROTOCOL_ERROR: 'PROTOCOL_ERROR',
  /** A frame's length prefix exceeded the configured maximum. */
  FRAME_TOO_LARGE: 'FRAME_TOO_LARGE',
  /** The other side speaks a different protocol version. */
  VERSION_MISMATCH: 'VERSION_MISMATCH',
  /** A request type the receiver does not handle. */
  UNKNOWN_MESSAGE: 'UNKNOWN_MESSAGE',
  /** A value exceeded the store's maximum value size. */
  VALUE_TOO_LARGE: 'VALUE_TOO_LARGE',
  /** A key was looked up and is not stored (or was deleted). */
  NOT_FOUND: 'NOT_FOUND',
  /** A write could not reach the required number of copies. */
  REPLICATION_FAILED: 'REPLICATION_FAILED',
  /** No live route to the key's owner could be found. */
  LOOKUP_FAILED: 'LOOKUP_FAILED',
  /** A peer is not (or no longer) part of a ring: not joined yet, leaving or stopped. */
  NOT_READY: 'NOT_READY',
  /** Joining failed: the bootstrap peer could not place us. */
  JOIN_FAILED: 'JOIN_FAILED',
  /** An id was not 40 hex digits / 20 bytes. */
  INVALID_ID: 'INVALID_ID',
  /** A request carried fields that make no sense (wrong lengths, absurd counts). */
  INVALID_REQUEST: 'INVALID_REQUEST',
  /** The request was sent to a peer that does not own the key (a stale route). */
  NOT_OWNER: 'NOT_OWNER',
  /** The component was closed while the operation was pending. */
  CLOSED: 'CLOSED',
  /** The other side failed the cluster-secret challenge (wrong or missing secret on one side). */
  AUTH_FAILED: 'AUTH_FAILED',
  /** Something that must not happen did: a broken invariant. */
  INTERNAL: 'INTERNAL',
} as const);

export type ErrorCode = (typeof ErrorCode)[keyof typeof ErrorCode];

const KNOWN_CODES: ReadonlySet<string> = new Set(Object.values(ErrorCode));

/** Is `code` one of the stable codes above (used when decoding a remote error)? */
export function isErrorCode(code: string): code is ErrorCode {
  return KNOWN_CODES.has(code);
}

/** The one error class of the project: `code` is stable, `message` is for humans. */
export class RingwireError extends Error {
  readonly code: ErrorCode;

  constructor(code: ErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'RingwireError';
    this.code = code;
  }
}

/**
 * An error reported by the remote side of a request (it answered with an error message).
 * Kept distinct from local failures so callers know the peer is alive and answered.
 */
export class RemoteError extends RingwireError {
  constructor(code: ErrorCode, message: string) {
    // No stack: the failure happened on the other side, a local stack would only show our
    // receive loop, and capturing one costs more than handling the reply (see refusal below).
    const limit = Error.stackTraceLimit;
    Error.stackTraceLimit = 0;
    try {
      super(code, message);
    } finally {
      Error.stackTraceLimit = limit;
    }
    this.name = 'RemoteError';
  }
}

/**
 * A RingwireError built without capturing a stack, for an answer a peer refuses with on purpose
 * (NOT_OWNER to a stale route, NOT_READY while leaving): it only travels to the caller as a reply,
 * where no stack goes, and V8 spends 8-16 µs capturing one, several times what the refusal costs.
 */
export function refusal(code: ErrorCode, message: string): RingwireError {
  const limit = Error.stackTraceLimit;
  Error.stackTraceLimit = 0;
  try {
    return new RingwireError(code, message);
  } finally {
    Error.stackTraceLimit = limit;
  }
}

/** True when `err` is a RingwireError carrying `code`. */
export function hasCode(err: unknown, code: ErrorCode): boolean {
  return err instanceof RingwireError && err.code === code;
}

/**
 * True when a failure says the peer is gone or unreachable (as opposed to answering with an error):
 * the routing layers use it to decide to skip the peer and try the next candidate.
 */
export function isPeerFailure(err: unknown): boolean {
  if (!(err instanceof RingwireError) || err instanceof RemoteError) return false;
  return (
    err.code === ErrorCode.TIMEOUT ||
    err.code === ErrorCode.CONNECTION_LOST ||
    err.code === ErrorCode.UNREACHABLE ||
    err.code === ErrorCode.PROTOCOL_ERROR ||
    err.code === ErrorCode.VERSION_MISMATCH ||
    err.code === ErrorCode.CLOSED
  );
}

/** A short human description of any thrown value, for logs and CLI messages. */
export function describeError(err: unknown): string {
  if (err instanceof RingwireError) return `${err.code}: ${err.message}`;
  if (err instanceof Error) return err.message;
  return String(err);
}
