/**
 * Real TCP rings for integration tests: PeerNodes on 127.0.0.1 port 0 in this process, and a check
 * of the ring invariant against the true ring computed from the live membership.
 */
import type { TestContext } from 'node:test';
import { PeerNode, type PeerNodeInit } from '../../src/node/peer-node.js';
import { compareIds, idEquals, idToHex } from '../../src/ring/index.js';
import { eventually } from './eventually.js';

export interface TcpRingOptions extends Partial<PeerNodeInit> {
  /** How many peers join at once after the first. */
  concurrency?: number;
}

/** Starts `n` peers: the first creates the ring, the rest join through it. Closed by t.after. */
export async function startTcpRing(n: number, t: TestContext, opts: TcpRingOptions = {}): Promise<PeerNode[]> {
  const { concurrency = 4, ...init } = opts;
  const nodes: PeerNode[] = [];
  t.after(async () => {
    await Promise.all(nodes.map((node) => node.close()));
  });
  const base = { stabilizeMs: 50, ...init, port: 0, host: '127.0.0.1' };
  nodes.push(await PeerNode.start({}, base));
  for (let i = 1; i < n; i += concurrency) {
    const batch = Array.from({ length: Math.min(concurrency, n - i) }, () => PeerNode.start({}, { ...base, join: nodes[0]!.addr }));
    nodes.push(...(await Promise.all(batch)));
  }
  return nodes;
}

/**
 * Null when every live node's successor list (up to its length, at least min(r, n-1) entries) and
 * predecessor equal the true ring's; otherwise a description of the first difference.
 */
export function ringMismatch(nodes: PeerNode[], r = 8): string | null {
  const sorted = [...nodes].sort((a, b) => compareIds(a.self.id, b.self.id));
  for (let i = 0; i < sorted.length; i++) {
    const node = sorted[i]!;
    const succ = sorted[(i + 1) % sorted.length]!;
    const pred = sorted[(i - 1 + sorted.length) % sorted.length]!;
    const haveSucc = node.chord.successors[0];
    if (!haveSucc || !idEquals(haveSucc.id, succ.self.id)) {
      return `${node.addr} has successor ${haveSucc?.addr ?? 'none'}, expected ${succ.addr}`;
    }
    // The whole list: lookups answer from it, so a lookup is only sure to be right once it is.
    const want = Math.max(1, Math.min(node.chord.successors.length, sorted.length - 1));
    for (let k = 0; k < want; k++) {
      const have = node.chord.successors[k];
      const expected = sorted[(i + 1 + k) % sorted.length]!;
      if (!have || !idEquals(have.id, expected.self.id)) return `${node.addr} successor ${k} is ${have?.addr ?? 'none'}, expected ${expected.addr}`;
    }
    if (node.chord.successors.length < Math.min(r, sorted.length - 1)) return `${node.addr} has only ${node.chord.successors.length} successors`;
    const havePred = node.chord.predecessor;
    if (!havePred || !idEquals(havePred.id, pred.self.id)) {
      return `${node.addr} has predecessor ${havePred?.addr ?? 'none'}, expected ${pred.addr}`;
    }
  }
  return null;
}

/** Waits until the ring of `nodes` is consistent (see ringMismatch). */
export async function waitConsistent(nodes: PeerNode[], timeoutMs = 20_000, r = 8): Promise<void> {
  await eventually(
    () => {
      const m = ringMismatch(nodes, r);
      if (m) throw new Error(m);
      return true;
    },
    { timeoutMs, what: `ring of ${nodes.length} peers consistent` },
  );
}

export const shortId = (node: PeerNode): string => idToHex(node.self.id).slice(0, 8);
