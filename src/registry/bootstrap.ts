/**
 * Joining a ring through the registry: ask it for a random sample of members and try them one by
 * one until a join succeeds.
 *
 * The registry only vouches that a peer was live when it registered or last pinged; it may have
 * died a moment ago. So one dead sample entry must not stop a join: it is skipped, and when a
 * whole sample fails a fresh one is asked for (the registry will have dropped the dead by then,
 * or hands out others). An empty registry is the normal start of a new ring, not an error.
 */
import { ErrorCode, RingwireError, describeError } from '../errors/errors.js';
import { silentLogger, type Logger } from '../log/logger.js';
import type { PeerRef } from '../protocol/messages.js';
import { idEquals, idToHex, type Id } from '../ring/index.js';
import { peersOf, queryRegistryOnce, type RegistryQueryInit } from './registry-query.js';

/** Defaults of bootstrapFromRegistry, by name. */
export const BOOTSTRAP_DEFAULTS = Object.freeze({
  /** Peers asked for per sample: enough that a few dead ones do not matter. */
  sampleSize: 8,
  /** Samples asked for before giving up (each later one skips peers already tried). */
  rounds: 2,
});

/** Options of bootstrapFromRegistry. */
export interface BootstrapOptions extends RegistryQueryInit {
  /** @default BOOTSTRAP_DEFAULTS.sampleSize */
  sampleSize?: number;
  /** @default BOOTSTRAP_DEFAULTS.rounds */
  rounds?: number;
}

/**
 * Fetches a sample of live peers from the registry at `registryAddr` and calls `tryJoin(addr)` on
 * each (never on `selfId`), in sample order, until one resolves; resolves with that peer. Resolves
 * with null when the registry knows no other peer: the caller creates a new ring. Rejects with
 * JOIN_FAILED (naming the last failure) when every candidate failed, or with the registry's
 * error (UNREACHABLE, TIMEOUT, ...) when the registry itself cannot be asked.
 */
export async function bootstrapFromRegistry(
  registryAddr: string,
  selfId: Id,
  tryJoin: (addr: string) => Promise<void>,
  options: BootstrapOptions = {},
): Promise<PeerRef | null> {
  const log: Logger = (options.log ?? silentLogger).child({ component: 'registry-bootstrap', peer: idToHex(selfId) });
  const sampleSize = options.sampleSize ?? BOOTSTRAP_DEFAULTS.sampleSize;
  const rounds = options.rounds ?? BOOTSTRAP_DEFAULTS.rounds;
  if (!Number.isInteger(sampleSize) || sampleSize < 1 || !Number.isInteger(rounds) || rounds < 1) {
    throw new RingwireError(ErrorCode.INVALID_REQUEST, `sampleSize and rounds must be positive integers, got ${sampleSize} and ${rounds}`);
  }
  const tried = new Set<string>();
  let lastError: unknown;
  for (let round = 0; round < rounds; round++) {
    const sample = peersOf(await queryRegistryOnce(registryAddr, { type: 'sample', count: sampleSize }, options));
    const candidates = sample.filter((p) => !idEquals(p.id, selfId) && !tried.has(idToHex(p.id)));
    if (candidates.length === 0) {
      if (tried.size === 0) {
        log.info('the registry knows no other peer: starting a new ring');
        return null;
      }
      break;
    }
    for (const peer of candidates) {
      tried.add(idToHex(peer.id));
      try {
        await tryJoin(peer.addr);
        log.info('joined through a registry peer', { via: peer.addr, tried: tried.size });
        return peer;
      } catch (err) {
        lastError = err;
        log.warn('join through a registry peer failed, trying the next', { via: peer.addr, err: describeError(err) });
      }
    }
  }
  throw new RingwireError(
    ErrorCode.JOIN_FAILED,
    `could not join through any of the ${tried.size} peer(s) the registry at ${registryAddr} handed out (last: ${describeError(lastError)})`,
    { cause: lastError },
  );
}
