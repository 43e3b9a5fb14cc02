/**
 * Messages between the host's main thread (the supervisor) and its peer worker threads. Each
 * command carries a sequence number that its reply echoes, so many can be in flight at once.
 */

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
}

export type WorkerCommand =
  | { seq: number; op: 'start'; spec: PeerSpec }
  | { seq: number; op: 'leave'; addr: string }
  | { seq: number; op: 'crash'; addr: string }
  | { seq: number; op: 'snapshot'; withKeys: boolean }
  | { seq: number; op: 'shutdown' };

export type WorkerReply =
  | { seq: number; ok: true; peer?: { id: string; addr: string }; peers?: PeerSnapshot[]; keys?: Record<string, string[]> }
  | { seq: number; ok: false; error: string; code?: string };

/** Sent by a worker on its own: a line to log in the main thread. */
export interface WorkerLog {
  log: string;
}
