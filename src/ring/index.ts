/** The ring layer: ids, interval arithmetic and SHA-1. Pure: no clocks, and no I/O once loaded (hash.ts reads hash-wasm's SHA-1 module at load). */
export * from './id.js';
export * from './hash.js';
