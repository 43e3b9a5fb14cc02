/**
 * One-shot questions to a registry (a sample, the membership) over a short-lived connection, and
 * the check of the peer lists it answers with.
 *
 * Bootstrapping happens before a peer has anything else running, and the CLI or the host may ask
 * for the membership once; neither should need a persistent RegistryClient for that.
 */
import { ErrorCode, RingwireError, describeError } from '../errors/errors.js';
import { silentLogger, type Logger } from '../log/logger.js';
import { expectReply, type PeerRef, type Request, type Response } from '../protocol/messages.js';
import { Connection, validatePeerRef, type ClusterSecret, type TlsConfig } from '../wire/index.js';

/** Defaults of a one-shot registry query, by name. */
export const REGISTRY_QUERY_DEFAULTS = Object.freeze({
  /** Budget for TCP connect plus hello to the registry. */
  connectTimeoutMs: 1000,
  /** Deadline of the question itself. */
  requestTimeoutMs: 2000,
});

/** Options of a one-shot registry query. */
export interface RegistryQueryInit {
  /** Who asks, announced in the hello; null for plain clients. @default null */
  self?: PeerRef | null;
  /** @default REGISTRY_QUERY_DEFAULTS.connectTimeoutMs */
  connectTimeoutMs?: number;
  /** @default REGISTRY_QUERY_DEFAULTS.requestTimeoutMs */
  requestTimeoutMs?: number;
  /** @default silentLogger */
  log?: Logger;
  /** The cluster secret to authenticate with; unset: none. */
  secret?: ClusterSecret;
  /** TLS (wire/tls.ts); unset: plain TCP. */
  tls?: TlsConfig;
}

/**
 * Opens a connection to the registry at `registryAddr`, sends `req`, closes, and resolves with
 * the answer. Rejects with the wire's RingwireError (UNREACHABLE, TIMEOUT, ...) whose message
 * names the registry, or a RemoteError when the registry answers with an error.
 */
export async function queryRegistryOnce(registryAddr: string, req: Request, init: RegistryQueryInit = {}): Promise<Response> {
  let conn: Connection;
  try {
    conn = await Connection.connect(registryAddr, {
      self: init.self ?? null,
      connectTimeoutMs: init.connectTimeoutMs ?? REGISTRY_QUERY_DEFAULTS.connectTimeoutMs,
      requestTimeoutMs: init.requestTimeoutMs ?? REGISTRY_QUERY_DEFAULTS.requestTimeoutMs,
      log: init.log ?? silentLogger,
      ...(init.secret !== undefined ? { secret: init.secret } : {}),
      ...(init.tls !== undefined ? { tls: init.tls } : {}),
    });
  } catch (err) {
    const code = err instanceof RingwireError ? err.code : ErrorCode.UNREACHABLE;
    throw new RingwireError(code, `cannot reach the registry at ${registryAddr}: ${describeError(err)}`, { cause: err });
  }
  try {
    return await conn.request(req, { timeoutMs: init.requestTimeoutMs ?? REGISTRY_QUERY_DEFAULTS.requestTimeoutMs });
  } finally {
    await conn.close();
  }
}

/**
 * The peers of a `peerList` answer, validated and copied into plain objects (decoded wire
 * messages are protobuf instances). A malformed entry means the registry broke the protocol.
 */
export function peersOf(res: Response): PeerRef[] {
  const list = expectReply(res, 'peerList');
  const peers: PeerRef[] = [];
  for (const [i, p] of list.peers.entries()) {
    try {
      validatePeerRef(p, `peerList.peers[${i}]`);
    } catch (err) {
      throw new RingwireError(ErrorCode.PROTOCOL_ERROR, `the registry sent a bad peer: ${describeError(err)}`);
    }
    peers.push({ id: Uint8Array.from(p.id), addr: String(p.addr) });
  }
  return peers;
}
