/** The store layer: a peer's replicated key-value data (see kv-store.ts for the model). */
export * from './kv-store.js';
export * from './local-store.js';
export * from './record.js';
export * from './repair.js';
export * from './replication.js';
export type * from './ring-view.js';
export * from './validate.js';
export * from './read-path.js';
