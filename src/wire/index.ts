/**
 * The wire layer: framing, the protobuf codec, multiplexed connections (client and server side)
 * and a pool of persistent connections with reconnect and backoff. It knows the message types but
 * no Chord logic; src/net builds the TCP Transport and server on top of it.
 */
export { MAX_REQ_ID, MESSAGE_TYPES, decodeMessage, encodeMessage } from './codec.js';
export type { DecodedMessage } from './codec.js';
export { parseAddr, validatePeerRef } from './address.js';
export type { HostPort } from './address.js';
export { FRAME_DEFAULTS, FRAME_HEADER_BYTES, FrameDecoder, checkMaxFrameBytes, encodeFrame, encodeFrames } from './frame.js';
export type { FrameDecoderInit } from './frame.js';
export { BACKOFF_DEFAULTS, backoffCeilingMs, backoffDelayMs } from './backoff.js';
export type { BackoffOptions, Jitter, RandomSource } from './backoff.js';
export { CONNECTION_DEFAULTS, Connection, remoteErrorOf } from './connection.js';
export type { ConnectInit, RequestOptions } from './connection.js';
export { SERVE_DEFAULTS, serveConnection } from './serve.js';
export type { RequestContext, ServeInit, ServedConnection } from './serve.js';
export { POOL_DEFAULTS, ConnectionPool } from './pool.js';
export { ClusterSecret } from './auth.js';
export { createListener, type TlsConfig } from './tls.js';
export type { PoolComponents, PoolInit, PoolStats } from './pool.js';
export { formatAddr, listenOn } from './listen.js';
