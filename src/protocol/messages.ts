/**
 * The TypeScript view of proto/ringwire.proto: one object type per Envelope body, tagged by `type`,
 * which is the body's oneof field name in camelCase (`find_successor` -> `findSuccessor`).
 *
 * This module is pure types plus tiny guards, so the chord and store layers (which must not import
 * the wire code) can speak the protocol, and wire's codec maps these objects to and from protobuf
 * without per-type glue. Field names equal the proto's camelCased names.
 */
import type { Id } from '../ring/id.js';
import { ErrorCode, RingwireError } from '../errors/errors.js';

/** Protocol version carried in Hello/HelloAck; a mismatch refuses the connection. */
export const PROTOCOL_VERSION = 1;

/** A peer on the ring. */
export interface PeerRef {
  id: Id;
  addr: string;
}

/** A stored entry; `version` orders writes (last writer wins), `deleted` marks a tombstone. */
export interface StoredRecord {
  key: Uint8Array;
  value: Uint8Array;
  version: number;
  deleted: boolean;
}

// --- connection setup ---
/** `nonce` (and `proof` in the ack) are set only with a cluster secret (wire/auth.ts); empty otherwise. */
export interface Hello { type: 'hello'; version: number; peer: PeerRef | null; nonce?: Uint8Array }
export interface HelloAck { type: 'helloAck'; version: number; peer: PeerRef | null; nonce?: Uint8Array; proof?: Uint8Array }
/** The client's answer to the server's challenge, right after the helloAck (request id 0). */
export interface AuthProof { type: 'authProof'; proof: Uint8Array }
export interface ErrorReply { type: 'error'; code: string; message: string }

// --- chord ---
export interface Ping { type: 'ping' }
export interface Pong { type: 'pong' }
export interface Ack { type: 'ack' }
export interface GetState { type: 'getState' }
export interface State { type: 'state'; self: PeerRef; predecessor: PeerRef | null; successors: PeerRef[] }
export interface Notify { type: 'notify'; peer: PeerRef }
export interface FindSuccessor { type: 'findSuccessor'; key: Id }
/** rangeStart (done answers): the id just before the owner's range, so the owner's range can be cached. */
export interface FindSuccessorReply { type: 'findSuccessorReply'; done: boolean; nodes: PeerRef[]; rangeStart?: Id }
export interface Leave { type: 'leave'; peer: PeerRef; predecessor: PeerRef | null; successors: PeerRef[] }
export interface GetInfo { type: 'getInfo' }
export interface Info {
  type: 'info';
  self: PeerRef;
  predecessor: PeerRef | null;
  successors: PeerRef[];
  fingers: PeerRef[];
  keys: number;
  stored: number;
}

// --- client key-value access ---
/** noRouteCache: resolve by routing even when the entry peer has a cached route, and leave its cache as it was (benchmarks, checks). */
export interface Lookup { type: 'lookup'; keyId: Id; noRouteCache?: boolean }
export interface LookupReply { type: 'lookupReply'; owner: PeerRef; hops: number; path: PeerRef[] }
export interface Put { type: 'put'; key: Uint8Array; value: Uint8Array; noRouteCache?: boolean }
export interface PutReply { type: 'putReply'; version: number; copies: number; hops: number }
export interface Get { type: 'get'; key: Uint8Array; noRouteCache?: boolean }
export interface GetReply { type: 'getReply'; found: boolean; value: Uint8Array; version: number; hops: number }
export interface Delete { type: 'delete'; key: Uint8Array; noRouteCache?: boolean }
export interface DeleteReply { type: 'deleteReply'; found: boolean; version: number; hops: number }

// --- store internals ---
/** mustOwn: sent through a cached route; the receiver refuses with NOT_OWNER unless it owns the key. */
export interface OwnerWrite { type: 'ownerWrite'; key: Uint8Array; value: Uint8Array; deleted: boolean; mustOwn?: boolean }
export interface OwnerWriteReply { type: 'ownerWriteReply'; version: number; copies: number; existed: boolean }
export interface Replicate { type: 'replicate'; records: StoredRecord[] }
export interface Read { type: 'read'; key: Uint8Array; mustOwn?: boolean }
export interface ReadReply { type: 'readReply'; record: StoredRecord | null }

// --- registry ---
export interface Register { type: 'register'; peer: PeerRef }
export interface Deregister { type: 'deregister'; peer: PeerRef }
export interface Sample { type: 'sample'; count: number }
export interface Members { type: 'members' }
export interface PeerList { type: 'peerList'; peers: PeerRef[] }

// --- fault tolerance ---
export interface SuccessorsChanged { type: 'successorsChanged' }

// --- recursive routing (one-way: see ONE_WAY_TYPES) ---
/** A lookup forwarded hop by hop; the resolving peer answers `origin` with a RouteDone. */
export interface RouteLookup {
  type: 'routeLookup';
  key: Id;
  origin: string;
  token: number;
  path: PeerRef[];
  /** A get: the owner reads this store key and answers with its record. */
  readKey?: Uint8Array;
  /** The receiver answers from its own state and never forwards. */
  final?: boolean;
  /** Forwards so far; `path` is filled only when `wantPath` (a client lookup reports its route). */
  hops?: number;
  wantPath?: boolean;
  /**
   * The origin's route cache learns from the answer (the request uses the cache): a done answer
   * carries the owner's whole successor list, each follower's range one more entry, rather than
   * only the owner and the followers needed to settle and to read replicas.
   */
  wholeList?: boolean;
}
/** The answer to a RouteLookup, sent to its origin: a done step (nodes, rangeStart) or errorCode. */
export interface RouteDone {
  type: 'routeDone';
  token: number;
  nodes: PeerRef[];
  rangeStart?: Id;
  path: PeerRef[];
  errorCode?: string;
  /** The owner (nodes[0], the sender) read the RouteLookup's readKey: `record` is its copy (null: none). */
  read?: boolean;
  record?: StoredRecord | null;
  /** Peers that handled the lookup, the answering one included (path.length when it was kept). */
  hops?: number;
}

/** Messages that open a request (sent by the connecting side). */
export type Request =
  | Ping | GetState | Notify | FindSuccessor | Leave | GetInfo
  | Lookup | Put | Get | Delete
  | OwnerWrite | Replicate | Read
  | Register | Deregister | Sample | Members
  | SuccessorsChanged | RouteLookup | RouteDone;

/** Messages that answer a request. */
export type Response =
  | ErrorReply | Pong | Ack | State | FindSuccessorReply | Info
  | LookupReply | PutReply | GetReply | DeleteReply
  | OwnerWriteReply | ReadReply | PeerList;

/** Any Envelope body. */
export type Message = Hello | HelloAck | AuthProof | Request | Response;

export type MessageType = Message['type'];

const REQUEST_TYPES: ReadonlySet<string> = new Set<Request['type']>([
  'ping', 'getState', 'notify', 'findSuccessor', 'leave', 'getInfo',
  'lookup', 'put', 'get', 'delete', 'ownerWrite', 'replicate', 'read',
  'register', 'deregister', 'sample', 'members',
  'successorsChanged', 'routeLookup', 'routeDone',
]);

/** True when `msg` opens a request (as opposed to answering one or setting up a connection). */
export function isRequest(msg: Message): msg is Request {
  return REQUEST_TYPES.has(msg.type);
}

/**
 * Requests that get no reply (sent with Transport.send): the answer to a recursive lookup travels
 * as a separate one-way message to the lookup's origin, never back along its path.
 */
export const ONE_WAY_TYPES: ReadonlySet<Request['type']> = new Set<Request['type']>(['routeLookup', 'routeDone']);

/** True for a one-way request (ONE_WAY_TYPES): the receiver sends nothing back on its connection. */
export function isOneWay(req: Request): boolean {
  return ONE_WAY_TYPES.has(req.type);
}

/** Responses by type, so `expectReply(res, 'state')` is typed as State. */
export type ResponseOf<T extends Response['type']> = Extract<Response, { type: T }>;

/**
 * Narrows a response to the expected type. An error reply is thrown by the transport before this
 * point; any other mismatch means the remote broke the protocol, reported as PROTOCOL_ERROR.
 */
export function expectReply<T extends Response['type']>(res: Response, type: T): ResponseOf<T> {
  if (res.type !== type) {
    throw new RingwireError(ErrorCode.PROTOCOL_ERROR, `expected a ${type} reply, got ${res.type}`);
  }
  return res as ResponseOf<T>;
}
