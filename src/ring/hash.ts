/**
 * SHA-1 through hash-wasm's WebAssembly implementation.
 *
 * One hasher is created when this module loads (top-level await) and reused for every call, so
 * hashing allocates nothing beyond the 20-byte result. Each worker thread gets its own module
 * instance, hence its own hasher, so there is no sharing across threads.
 */
import { createSHA1 } from 'hash-wasm';
import type { Id } from './id.js';

const hasher = await createSHA1();

/** SHA-1 of raw bytes, as an id. */
export function sha1(data: Uint8Array): Id {
  hasher.init();
  hasher.update(data);
  return hasher.digest('binary');
}

/** A key's id: SHA-1 of the key's bytes (a string is taken as UTF-8). */
export function keyId(key: Uint8Array | string): Id {
  hasher.init();
  hasher.update(key); // hash-wasm UTF-8 encodes strings itself, without an intermediate buffer
  return hasher.digest('binary');
}

/** A peer's default id: SHA-1 of the UTF-8 string `host:port` it listens on. */
export function peerIdForAddr(addr: string): Id {
  return keyId(addr);
}
