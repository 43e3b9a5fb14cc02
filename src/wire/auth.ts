/**
 * Cluster authentication: a shared secret and the mutual HMAC challenge-response run inside the
 * hello exchange when one is set.
 *
 *   client -> hello     { nonce: Nc }
 *   server -> helloAck  { nonce: Ns, proof: HMAC(secret, "ringwire server" | Nc | Ns) }
 *   client -> authProof { proof: HMAC(secret, "ringwire client" | Nc | Ns) }
 *
 * Each side proves knowledge of the secret over a nonce the other side chose fresh, so a recorded
 * exchange cannot be replayed; the two proofs carry different labels, so a server cannot be used
 * as an oracle to compute a client's proof (or the reverse). Proofs are compared in constant time.
 * The secret never leaves this module in readable form: `ClusterSecret` prints as "[secret]".
 */
import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import { inspect } from 'node:util';
import { ErrorCode, RingwireError } from '../errors/errors.js';

/** Bytes in a nonce: 128 random bits never repeat in practice. */
export const NONCE_BYTES = 16;
/** Bytes in a proof: one HMAC-SHA256. */
export const PROOF_BYTES = 32;

const SERVER_LABEL = Buffer.from('ringwire server\0');
const CLIENT_LABEL = Buffer.from('ringwire client\0');

/**
 * The cluster secret. Opaque on purpose: logging, JSON-encoding or inspecting it shows
 * "[secret]", so an options object that carries it can be logged safely. Between threads, pass
 * `exportBytes()` and rebuild with `new ClusterSecret(bytes)` (a class instance does not survive
 * structured cloning).
 */
export class ClusterSecret {
  readonly #key: Buffer;

  /** Rejects an empty secret (INVALID_REQUEST): it would authenticate anyone. */
  constructor(key: Uint8Array | string) {
    const bytes = typeof key === 'string' ? Buffer.from(key, 'utf8') : Buffer.from(key);
    if (bytes.length === 0) throw new RingwireError(ErrorCode.INVALID_REQUEST, 'the cluster secret is empty');
    this.#key = bytes;
  }

  /** HMAC-SHA256 of `parts` under the secret. */
  mac(...parts: Uint8Array[]): Buffer {
    const h = createHmac('sha256', this.#key);
    for (const p of parts) h.update(p);
    return h.digest();
  }

  /** A copy of the key bytes, for handing the secret to a worker thread. Never log it. */
  exportBytes(): Uint8Array {
    return Uint8Array.from(this.#key);
  }

  toString(): string {
    return '[secret]';
  }

  toJSON(): string {
    return '[secret]';
  }

  [inspect.custom](): string {
    return '[secret]';
  }
}

/** A fresh random nonce. */
export function newNonce(): Uint8Array {
  return randomBytes(NONCE_BYTES);
}

/** The server's proof over both nonces. */
export function serverProof(secret: ClusterSecret, clientNonce: Uint8Array, serverNonce: Uint8Array): Uint8Array {
  return secret.mac(SERVER_LABEL, clientNonce, serverNonce);
}

/** The client's proof over both nonces. */
export function clientProof(secret: ClusterSecret, clientNonce: Uint8Array, serverNonce: Uint8Array): Uint8Array {
  return secret.mac(CLIENT_LABEL, clientNonce, serverNonce);
}

/** Constant-time comparison of a received proof with the expected one (false on any length mismatch). */
export function proofMatches(expected: Uint8Array, received: Uint8Array | undefined | null): boolean {
  if (received === undefined || received === null || received.length !== expected.length) return false;
  return timingSafeEqual(expected, received);
}

/** True when `nonce` has the right size (an empty or odd-sized one is refused before any HMAC). */
export function isNonce(nonce: Uint8Array | undefined | null): nonce is Uint8Array {
  return nonce !== undefined && nonce !== null && nonce.length === NONCE_BYTES;
}
