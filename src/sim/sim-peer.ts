/**
 * One simulated peer: a ChordPeer and its KvStore behind a single request handler, served on a
 * MemoryNetwork. Tests and the simulator build rings from these exactly as the node layer builds
 * TCP peers (chord requests to the chord core, key-value requests to the store, `getInfo` from
 * both), so what passes in simulation exercises the same dispatch.
 */
import type { Clock, Random } from '../chord/clock.js';
import type { ChordInit } from '../chord/defaults.js';
import { ChordPeer } from '../chord/peer.js';
import type { RequestHandler } from '../chord/transport.js';
import type { Logger } from '../log/logger.js';
import { peerIdForAddr } from '../ring/hash.js';
import type { Id } from '../ring/id.js';
import { composeHandler } from '../store/peer-handler.js';
import { KvStore, type KvStoreInit } from '../store/kv-store.js';
import type { MemoryNetwork } from './memory-network.js';

/** Shared collaborators of every simulated peer. */
export interface SimPeerComponents {
  clock: Clock;
  random: Random;
  log?: Logger;
}

/** One simulated peer's identity and options. */
export interface SimPeerInit {
  /** The address it listens on in the memory network (any unique string, usually host:port). */
  addr: string;
  /** Its ring id. @default SHA-1 of addr, as for a real peer */
  id?: Id;
  /** Chord options (ChordInit without id and addr). */
  chord?: Omit<ChordInit, 'id' | 'addr'>;
  /** Store options. */
  store?: KvStoreInit;
}

/** A running simulated peer. */
export interface SimPeer {
  readonly chord: ChordPeer;
  readonly store: KvStore;
  readonly addr: string;
  /** The handler registered on the network (callable directly, bypassing delivery). */
  readonly handler: RequestHandler;
  /** Dies without a goodbye: unreachable at once, every timer stopped, nothing handed off. */
  crash(): void;
  /** Stops the peer the same abrupt way (for cleanup); a graceful exit is store.handOff() + chord.leave() first. */
  stop(): void;
}

/**
 * Builds a peer, serves it at `init.addr` and starts its store's maintenance (repair does nothing
 * until the ring gives the peer a predecessor). The caller then calls `chord.create()` or
 * `await chord.join(addr)` and `chord.start()`, as the node layer does.
 */
export function createSimPeer(network: MemoryNetwork, components: SimPeerComponents, init: SimPeerInit): SimPeer {
  const transport = network.transport();
  const id = init.id ?? peerIdForAddr(init.addr);
  const chord = new ChordPeer(
    { transport, clock: components.clock, random: components.random, ...(components.log ? { log: components.log } : {}) },
    { ...init.chord, id, addr: init.addr },
  );
  const store = new KvStore(
    { ring: chord, transport, clock: components.clock, ...(components.log ? { log: components.log } : {}) },
    init.store ?? {},
  );
  const handler = composeHandler(chord, store);
  network.listen(init.addr, handler);
  store.start();
  const halt = (): void => {
    network.crash(init.addr);
    chord.stop();
    store.stop();
  };
  return { chord, store, addr: init.addr, handler, crash: halt, stop: halt };
}
