/**
 * Peer addresses (`host:port`) and the semantic check of a PeerRef that arrived off the wire.
 *
 * The codec validates structure only; what a PeerRef must contain (a 20-byte id, a dialable
 * address) is checked here, once, so every handler that accepts a peer from a remote (notify,
 * leave, register, hello) rejects the same garbage with the same code.
 */
import { ErrorCode, RingwireError } from '../errors/errors.js';
import { ID_BYTES } from '../ring/id.js';
import type { PeerRef } from '../protocol/messages.js';

/** A parsed `host:port`. */
export interface HostPort {
  host: string;
  port: number;
}

/** Longest address we accept: a DNS name (253) plus brackets, a colon and a port, with room to spare. */
const MAX_ADDR_CHARS = 300;

/**
 * Parses `host:port` (`[v6]:port` for IPv6 literals). Returns undefined when `addr` is not one:
 * empty host, whitespace, a port outside 1..65535. Pure, so callers pick their own error code.
 */
export function parseAddr(addr: unknown): HostPort | undefined {
  if (typeof addr !== 'string' || addr.length === 0 || addr.length > MAX_ADDR_CHARS) return undefined;
  const colon = addr.lastIndexOf(':');
  if (colon <= 0) return undefined;
  let host = addr.slice(0, colon);
  const portText = addr.slice(colon + 1);
  if (!/^[0-9]{1,5}$/.test(portText)) return undefined;
  const port = Number(portText);
  if (port < 1 || port > 65535) return undefined;
  if (host.startsWith('[')) {
    if (!host.endsWith(']') || host.length < 3) return undefined;
    host = host.slice(1, -1);
    if (!/^[0-9a-fA-F:.]+$/.test(host)) return undefined;
  } else if (host.includes(':')) {
    return undefined; // an IPv6 literal must be bracketed, or the port is ambiguous
  }
  if (/[\s/\\@]/.test(host)) return undefined;
  return { host, port };
}

/**
 * Throws INVALID_REQUEST unless `p` is a PeerRef with a 20-byte id and a `host:port` address;
 * `what` names the field in the message (`notify.peer`). Handlers call it on every peer a remote
 * sends, because the codec gives unset ids as empty buffers and unset peers as null.
 */
export function validatePeerRef(p: unknown, what: string): asserts p is PeerRef {
  if (p === null || typeof p !== 'object') {
    throw new RingwireError(ErrorCode.INVALID_REQUEST, `${what} is missing`);
  }
  const { id, addr } = p as { id?: unknown; addr?: unknown };
  if (!(id instanceof Uint8Array) || id.length !== ID_BYTES) {
    const got = id instanceof Uint8Array ? `${id.length} bytes` : typeof id;
    throw new RingwireError(ErrorCode.INVALID_REQUEST, `${what}.id must be a ${ID_BYTES}-byte id (got ${got})`);
  }
  if (parseAddr(addr) === undefined) {
    const shown = typeof addr === 'string' ? JSON.stringify(addr.slice(0, 64)) : typeof addr;
    throw new RingwireError(ErrorCode.INVALID_REQUEST, `${what}.addr must be host:port (got ${shown})`);
  }
}
