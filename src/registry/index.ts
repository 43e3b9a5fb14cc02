/**
 * The registry layer: a discovery server where peers register over a persistent connection, the
 * client that keeps a peer registered (reconnecting by itself), and bootstrapping a join from a
 * registry sample. Not on the data path: the ring works without it.
 */
export { REGISTRY_SERVER_DEFAULTS, RegistryServer } from './registry-server.js';
export type { RegistryServerComponents, RegistryServerInit } from './registry-server.js';
export { REGISTRY_CLIENT_DEFAULTS, RegistryClient } from './registry-client.js';
export type { RegistryClientComponents, RegistryClientEvents, RegistryClientInit } from './registry-client.js';
export { BOOTSTRAP_DEFAULTS, bootstrapFromRegistry } from './bootstrap.js';
export type { BootstrapOptions } from './bootstrap.js';
export { REGISTRY_QUERY_DEFAULTS, peersOf, queryRegistryOnce } from './registry-query.js';
export type { RegistryQueryInit } from './registry-query.js';
export { Membership } from './membership.js';
export type { MemberEntry } from './membership.js';
