/**
 * An oracle ring for store tests: one shared membership list, and per peer a RingView computed
 * from it. Lookups answer from global knowledge, so store behaviour is tested apart from Chord's
 * own convergence. `update()` recomputes every view and fires the same change events a Chord
 * peer would (predecessor from/to, successors changed).
 */
import type { TestContext } from 'node:test';
import { ManualClock } from '../../src/sim/manual-clock.js';
import { MemoryNetwork } from '../../src/sim/memory-network.js';
import { ErrorCode, RingwireError } from '../../src/errors/errors.js';
import { betweenRightIncl, compareIds, idEquals, type Id } from '../../src/ring/id.js';
import { peerIdForAddr } from '../../src/ring/hash.js';
import type { PeerRef } from '../../src/protocol/messages.js';
import type { RingLookup, RingView, RingViewChange } from '../../src/store/ring-view.js';
import { KvStore, type KvStoreInit } from '../../src/store/kv-store.js';

export class FakeMembership {
  private members: PeerRef[] = [];
  readonly views = new Map<string, FakeRing>();
  /** When true, a suspected peer leaves the routing table at once (a perfect failure detector). */
  suspectRemoves = true;
  readonly suspected: string[] = [];

  constructor(readonly successorListLength = 4) {}

  add(peer: PeerRef): FakeRing {
    this.members.push(peer);
    this.members.sort((a, b) => compareIds(a.id, b.id));
    const view = new FakeRing(this, peer);
    this.views.set(peer.addr, view);
    return view;
  }

  remove(addr: string): void {
    this.members = this.members.filter((p) => p.addr !== addr);
    this.views.delete(addr);
  }

  suspect(peer: PeerRef): void {
    this.suspected.push(peer.addr);
    if (!this.suspectRemoves || !this.members.some((p) => p.addr === peer.addr)) return;
    this.remove(peer.addr);
    this.update();
  }

  /** The first `count` members after `id`'s owner, wrapping, never the owner itself. */
  successorsOf(owner: PeerRef, count: number): PeerRef[] {
    const i = this.members.findIndex((p) => idEquals(p.id, owner.id));
    const out: PeerRef[] = [];
    for (let k = 1; k <= Math.min(count, this.members.length - 1); k++) out.push(this.members[(i + k) % this.members.length]!);
    return out;
  }

  ownerOf(key: Id): PeerRef {
    if (this.members.length === 0) throw new RingwireError(ErrorCode.LOOKUP_FAILED, 'empty ring');
    return this.members.find((p) => compareIds(p.id, key) >= 0) ?? this.members[0]!;
  }

  predecessorOf(peer: PeerRef): PeerRef {
    const i = this.members.findIndex((p) => idEquals(p.id, peer.id));
    return this.members[(i - 1 + this.members.length) % this.members.length]!;
  }

  /** The replica set of a key: owner then replicas-1 successors. */
  replicaSet(key: Id, replicas: number): PeerRef[] {
    const owner = this.ownerOf(key);
    return [owner, ...this.successorsOf(owner, replicas - 1)];
  }

  /** Recomputes every view and fires change events where something moved. */
  update(): void {
    for (const v of [...this.views.values()]) v.refresh();
  }
}

export class FakeRing implements RingView {
  predecessor: PeerRef | null = null;
  successors: PeerRef[] = [];
  private readonly listeners = new Set<(c: RingViewChange) => void>();

  constructor(private readonly membership: FakeMembership, readonly self: PeerRef) {
    this.successors = [self];
  }

  async findSuccessor(key: Id): Promise<RingLookup> {
    const owner = this.membership.ownerOf(key);
    return { owner, successors: this.membership.successorsOf(owner, this.membership.successorListLength), hops: 0 };
  }

  owns(keyId: Id): boolean {
    if (this.predecessor === null) return this.successors.every((p) => idEquals(p.id, this.self.id));
    return betweenRightIncl(this.predecessor.id, keyId, this.self.id);
  }

  suspect(peer: PeerRef): void {
    this.membership.suspect(peer);
  }

  onChange(listener: (c: RingViewChange) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  refresh(): void {
    const succ = this.membership.successorsOf(this.self, this.membership.successorListLength);
    const successors = succ.length === 0 ? [this.self] : succ;
    const pred = succ.length === 0 ? null : this.membership.predecessorOf(this.self);
    const change: RingViewChange = { successorsChanged: !samePeers(successors, this.successors) };
    if (!samePeer(pred, this.predecessor)) change.predecessor = { from: this.predecessor, to: pred };
    this.successors = successors;
    this.predecessor = pred;
    if (change.successorsChanged || change.predecessor) for (const l of this.listeners) l(change);
  }
}

function samePeer(a: PeerRef | null, b: PeerRef | null): boolean {
  return a === null || b === null ? a === b : idEquals(a.id, b.id);
}

function samePeers(a: readonly PeerRef[], b: readonly PeerRef[]): boolean {
  return a.length === b.length && a.every((p, i) => idEquals(p.id, b[i]!.id));
}

export interface FakeNode {
  addr: string;
  ring: FakeRing;
  store: KvStore;
}

export interface FakeCluster {
  clock: ManualClock;
  network: MemoryNetwork;
  membership: FakeMembership;
  nodes: FakeNode[];
  /** Adds a peer (store started), updates every view; returns it. */
  addNode(addr: string): FakeNode;
  node(addr: string): FakeNode;
  /** Crash at the network level only: routing still lists the peer until someone suspects it. */
  crash(addr: string): void;
}

/** n peers at 10.0.0.i:4000 over a MemoryNetwork, each with a started KvStore; stopped by t.after. */
export function makeFakeCluster(t: TestContext, n: number, init: KvStoreInit = {}): FakeCluster {
  const clock = new ManualClock(1_000);
  const network = new MemoryNetwork({ clock });
  const membership = new FakeMembership();
  const nodes: FakeNode[] = [];
  const cluster: FakeCluster = {
    clock,
    network,
    membership,
    nodes,
    addNode(addr) {
      const ring = membership.add({ id: peerIdForAddr(addr), addr });
      const store = new KvStore({ ring, transport: network.transport(), clock }, init);
      network.listen(addr, (req) => store.handle(req) ?? Promise.reject(new RingwireError(ErrorCode.UNKNOWN_MESSAGE, req.type)));
      store.start();
      const node = { addr, ring, store };
      nodes.push(node);
      membership.update();
      return node;
    },
    node(addr) {
      const found = nodes.find((x) => x.addr === addr);
      if (!found) throw new Error(`no node ${addr}`);
      return found;
    },
    crash(addr) {
      network.crash(addr);
      cluster.node(addr).store.stop();
    },
  };
  for (let i = 1; i <= n; i++) cluster.addNode(`10.0.0.${i}:4000`);
  t.after(() => {
    for (const x of nodes) x.store.stop();
  });
  return cluster;
}
