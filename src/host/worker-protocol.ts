/**
 * Messages between the host's main thread (the supervisor) and its peer worker threads. Each
 * command carries a sequence number that its reply echoes, so many can be in flight at once.
 */
import type { PeerMetricsSample, PoolMetricsSample } from '../metrics/peer-metrics.js';

/** How a peer in a worker is started. */
export interface PeerSpec {
  host: string;
  port: number;
  /** Join through this peer, or (when unset) through the registry, or create a ring when neither. */
  join?: string;
  registry?: string;
  successors?: number;
  replicas?: number;
  stabilizeMs?: number;
  maxConnections?: number;
  fingersPerRound?: number;
  routeCache?: boolean;
  recursiveLookups?: boolean;
}

/** What a worker reports of one peer: enough for the admin API and the health check. */
export interface PeerSnapshot {
  id: string;
  addr: string;
  worker: number;
  predecessor: string | null;
  successors: string[];
  /** The 160 finger entries as peer ids (null where unset). */
  fingers: (string | null)[];
  keys: number;
  stored: number;
  /** Timer-driven stabilize rounds since the peer started (its own count of periods). */
  stabilizeRounds?: number;
}

export type WorkerCommand =
  | { seq: number; op: 'start'; spec: PeerSpec }
  | { seq: number; op: 'leave'; addr: string }
  | { seq: number; op: 'crash'; addr: string }
  /** `withFingers: false` leaves `fingers` empty (160 hex ids per peer are most of a snapshot's cost); `addr` limits it to one peer. */
  | { seq: number; op: 'snapshot'; withKeys: boolean; withFingers?: boolean; addr?: string }
  | { seq: number; op: 'metrics' }
  | { seq: number; op: 'shutdown' };

export type WorkerReply =
  | { seq: number; ok: true; peer?: { id: string; addr: string }; peers?: PeerSnapshot[]; keys?: Record<string, string[]>; metrics?: PeerMetricsSample[]; pool?: PoolMetricsSample }
  | { seq: number; ok: false; error: string; code?: string };

/** Sent by a worker on its own: a line to log in the main thread. */
export interface WorkerLog {
  log: string;
}
