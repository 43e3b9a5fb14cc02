/**
 * The chord layer's public surface: the peer, its configuration and the seams it runs on. Other
 * layers import from here (or from peer.ts directly); the remaining modules are internal.
 */
export { ChordPeer, type ChordComponents, type ChordStatus, type RingChange } from './peer.js';
export { CHORD_DEFAULTS, resolveChordConfig, type ChordConfig, type ChordInit } from './defaults.js';
export type { LookupResult } from './lookup.js';
export type { Transport, RequestHandler, RequestOptions } from './transport.js';
export { systemClock, type Clock, type Random, type TimerHandle } from './clock.js';
export { FailingTransport } from './failing-transport.js';
