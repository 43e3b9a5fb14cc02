/**
 * Checks and comparisons for PeerRefs. Everything that arrives from the wire is untrusted: a
 * malformed id or an empty address must be refused at the edge, before it can reach a successor
 * list or a finger where it would poison routing for everyone who copies our state.
 */
import { ErrorCode, RingwireError } from '../errors/errors.js';
import { idEquals, idToHex, isId } from '../ring/id.js';
import type { PeerRef } from '../protocol/messages.js';

/** Longest address accepted from the wire; host:port never gets near it. */
export const MAX_ADDR_LENGTH = 1024;

/** True when `value` is a PeerRef with a 20-byte id and a non-empty, bounded address. */
export function isPeerRef(value: unknown): value is PeerRef {
  if (typeof value !== 'object' || value === null) return false;
  const v = value as { id?: unknown; addr?: unknown };
  return isId(v.id) && typeof v.addr === 'string' && v.addr.length > 0 && v.addr.length <= MAX_ADDR_LENGTH;
}

/**
 * Throws `code` (INVALID_REQUEST for requests we answer, PROTOCOL_ERROR for replies we read)
 * unless `value` is a valid PeerRef; `what` names the field in the message.
 */
export function checkPeerRef(value: unknown, what: string, code: ErrorCode = ErrorCode.INVALID_REQUEST): PeerRef {
  if (!isPeerRef(value)) throw new RingwireError(code, `${what} must be a peer with a 20-byte id and a non-empty address`);
  return value;
}

/** Like checkPeerRef, for an optional field (null/undefined = unknown). */
export function checkOptionalPeerRef(value: unknown, what: string, code: ErrorCode = ErrorCode.INVALID_REQUEST): PeerRef | null {
  return value === null || value === undefined ? null : checkPeerRef(value, what, code);
}

/** Like checkPeerRef, for a list; also bounds its length (`max`) so a reply cannot flood us. */
export function checkPeerList(value: unknown, what: string, max: number, code: ErrorCode = ErrorCode.INVALID_REQUEST): PeerRef[] {
  if (!Array.isArray(value)) throw new RingwireError(code, `${what} must be a list of peers`);
  if (value.length > max) throw new RingwireError(code, `${what} has ${value.length} peers, more than ${max}`);
  for (let i = 0; i < value.length; i++) checkPeerRef(value[i], `${what}[${i}]`, code);
  return value as PeerRef[];
}

/** Same peer: ids decide (an address may be reused by a restarted peer with another id). */
export function samePeer(a: PeerRef | null | undefined, b: PeerRef | null | undefined): boolean {
  if (!a || !b) return a === b;
  return a === b || idEquals(a.id, b.id);
}

/** Same peer and same address: used to decide whether a pointer really changed. */
export function samePeerAndAddr(a: PeerRef | null, b: PeerRef | null): boolean {
  if (!a || !b) return a === b;
  return a === b || (a.addr === b.addr && idEquals(a.id, b.id));
}

/** A short form for logs: the first 8 hex digits of the id and the address. */
export function describePeer(p: PeerRef | null | undefined): string {
  return p ? `${idToHex(p.id).slice(0, 8)}@${p.addr}` : 'none';
}
