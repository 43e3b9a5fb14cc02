/**
 * SHA-1 through hash-wasm's WebAssembly implementation.
 *
 * hash-wasm's public hasher costs three WebAssembly calls and three allocations per hash (a view
 * of the input, a subarray of it and the digest), and for a 20-40 byte key that wrapper is most of
 * the time. So we instantiate hash-wasm's own SHA-1 module directly, once per thread (each worker
 * loads this module separately, so nothing is shared across threads), and hash in one call:
 * copy the bytes into the module's buffer (strings are UTF-8 encoded straight into it), call
 * `Hash_Calculate`, copy the 20-byte digest out.
 *
 * The module's bytes are read from the package's SHA-1 bundle. If that ever fails (a hash-wasm
 * release with a different layout), or the module does not hash a known vector correctly, we fall
 * back to the public `createSHA1()` hasher: slower, same results. `SHA1_BACKEND` says which is in
 * use; RINGWIRE_SHA1=hasher forces the fallback (to compare them), and the tests check both
 * against node:crypto.
 */
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { createSHA1, type IHasher } from 'hash-wasm';
import type { Id } from './id.js';

/** Size of hash-wasm's input buffer (its MAX_HEAP). Longer inputs are fed in chunks. */
const CHUNK = 16 * 1024;
const DIGEST = 20;

interface Sha1Exports {
  memory: WebAssembly.Memory;
  Hash_GetBuffer(): number;
  Hash_Init(bits: number): void;
  Hash_Update(length: number): void;
  Hash_Final(padding: number): void;
  Hash_Calculate(length: number, initParam: number, digestParam: number): void;
}

/** hash-wasm's SHA-1 module and its input buffer, or why it cannot be used directly. */
function loadDirect(): { exports: Sha1Exports; buffer: Uint8Array } | { error: string } {
  if (process.env['RINGWIRE_SHA1'] === 'hasher') return { error: 'RINGWIRE_SHA1=hasher' };
  try {
    const require = createRequire(import.meta.url);
    const bundle = readFileSync(require.resolve('hash-wasm/dist/sha1.umd.min.js'), 'utf8');
    const match = /name:"sha1",data:"([A-Za-z0-9+/=]+)"/.exec(bundle);
    if (!match) return { error: 'no SHA-1 module found in hash-wasm/dist/sha1.umd.min.js' };
    const instance = new WebAssembly.Instance(new WebAssembly.Module(Buffer.from(match[1]!, 'base64')), {});
    const exports = instance.exports as unknown as Sha1Exports;
    for (const name of ['Hash_GetBuffer', 'Hash_Init', 'Hash_Update', 'Hash_Final', 'Hash_Calculate'] as const) {
      if (typeof exports[name] !== 'function') return { error: `hash-wasm's SHA-1 module has no ${name}` };
    }
    // The buffer's memory never grows (SHA-1 needs no heap), so this view stays valid.
    const buffer = new Uint8Array(exports.memory.buffer, exports.Hash_GetBuffer(), CHUNK);
    // Known answer: a module that hashes wrongly must never produce ids.
    buffer.set([0x61, 0x62, 0x63]);
    exports.Hash_Calculate(3, 0, 0);
    if (Buffer.from(buffer.subarray(0, DIGEST)).toString('hex') !== 'a9993e364706816aba3e25717850c26c9cd0d89d') {
      return { error: 'hash-wasm\'s SHA-1 module gave a wrong digest for "abc"' };
    }
    return { exports, buffer };
  } catch (err) {
    return { error: err instanceof Error ? err.message : String(err) };
  }
}

const direct = loadDirect();
const hasher: IHasher | null = 'error' in direct ? await createSHA1() : null;
const wasm = 'error' in direct ? null : direct.exports;
const buf = 'error' in direct ? new Uint8Array(0) : direct.buffer;
const utf8 = new TextEncoder();

function digestOut(): Id {
  return buf.slice(0, DIGEST);
}

/** Hashes the first `length` bytes already in the module's buffer. */
function calculate(length: number): Id {
  wasm!.Hash_Calculate(length, 0, 0);
  return digestOut();
}

/** Inputs longer than the buffer: init, update chunk by chunk, final. */
function chunked(data: Uint8Array): Id {
  wasm!.Hash_Init(0);
  for (let at = 0; at < data.length; at += CHUNK) {
    const chunk = data.subarray(at, at + CHUNK);
    buf.set(chunk);
    wasm!.Hash_Update(chunk.length);
  }
  wasm!.Hash_Final(0);
  return digestOut();
}

/** Which SHA-1 path is in use: hash-wasm's module called directly, or its public hasher (and why). */
export const SHA1_BACKEND: string = 'error' in direct ? `hash-wasm hasher (direct module unavailable: ${direct.error})` : 'hash-wasm module, direct';

/** SHA-1 of raw bytes, as an id. */
export function sha1(data: Uint8Array): Id {
  if (hasher) return hasher.init().update(data).digest('binary');
  if (data.length > CHUNK) return chunked(data);
  buf.set(data);
  return calculate(data.length);
}

/** A key's id: SHA-1 of the key's bytes (a string is taken as UTF-8). */
export function keyId(key: Uint8Array | string): Id {
  if (typeof key !== 'string') return sha1(key);
  if (hasher) return hasher.init().update(key).digest('binary');
  // UTF-8 takes at most 3 bytes per UTF-16 unit, so a string this short always fits the buffer;
  // encodeInto writes straight into the module's memory, with no intermediate array.
  if (key.length * 3 <= CHUNK) return calculate(utf8.encodeInto(key, buf).written);
  return chunked(utf8.encode(key));
}

/** A peer's default id: SHA-1 of the UTF-8 string `host:port` it listens on. */
export function peerIdForAddr(addr: string): Id {
  return keyId(addr);
}
