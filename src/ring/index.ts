/** The ring layer: ids, interval arithmetic and SHA-1. Pure: no I/O, no clocks. */
export * from './id.js';
export * from './hash.js';
