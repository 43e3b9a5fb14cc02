/**
 * CPU per operation above the wire, in one thread, without sockets:
 *   node dist/bench/hotpath.js [--peers 256] [--op get|lookup] [--cache off|on] [--ops 20000]
 *     [--rounds 5] [--concurrency 64] [--json] [--dist DIR]
 * (or `make bench-hotpath HOTPATH_ARGS=...`). The peers are the real ChordPeer and KvStore on the
 * in-memory network, bootstrapped into a correct ring (no maintenance runs), and every message and
 * answer goes through the real codec: encoded, copied into a buffer of its own as a socket read
 * would deliver it, decoded. What is left out is the kernel, the socket and stream machinery and
 * the request bookkeeping of src/wire, which `make bench-messages` and the wire baseline cover.
 *
 * With no other thread and no kernel path in the measurement, rounds differ by far less than
 * cluster runs do, so a change to routing, the route cache, the store or the codec shows here
 * when a cluster's noise would hide it. `--dist` runs another build's code under this harness
 * (`make bench-ab REF=... AB_ARGS=--hotpath` uses it to alternate two builds).
 */
import { resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { parseFlags } from './args.js';
import type * as ClockModule from '../src/chord/clock.js';
import type * as IdModule from '../src/ring/id.js';
import type * as HashModule from '../src/ring/hash.js';
import type * as NetworkModule from '../src/sim/memory-network.js';
import type * as OracleModule from '../src/sim/oracle.js';
import type * as RandomModule from '../src/sim/random.js';
import type * as SimPeerModule from '../src/sim/sim-peer.js';
import type * as CodecModule from '../src/wire/codec.js';
import type { Transport } from '../src/chord/transport.js';
import type { Message } from '../src/protocol/messages.js';

const USAGE = 'bench-hotpath: --peers, --ops, --rounds, --concurrency and --keys must be positive integers, --op get or lookup, --cache off or on';
const OPTIONS = {
  peers: { type: 'string', default: '256' },
  op: { type: 'string', default: 'get' },
  cache: { type: 'string', default: 'off' },
  ops: { type: 'string', default: '20000' },
  rounds: { type: 'string', default: '5' },
  concurrency: { type: 'string', default: '64' },
  keys: { type: 'string', default: '1000' },
  json: { type: 'boolean', default: false },
  dist: { type: 'string' },
} as const;

const { values } = parseFlags(OPTIONS);
const opts = {
  peers: Number(values.peers),
  ops: Number(values.ops),
  rounds: Number(values.rounds),
  concurrency: Number(values.concurrency),
  keys: Number(values.keys),
};
if (Object.values(opts).some((n) => !Number.isInteger(n) || n <= 0) || !['get', 'lookup'].includes(values.op!) || !['off', 'on'].includes(values.cache!)) {
  process.stderr.write(`${USAGE}\n`);
  process.exit(2);
}
const op = values.op as 'get' | 'lookup';
const cache = values.cache === 'on';
const SUCCESSORS = 8;

// This build's modules, or another build's (`--dist`), loaded the same way either way.
const dist = values.dist !== undefined ? resolve(values.dist) : resolve(new URL('..', import.meta.url).pathname);
const load = async <T>(rel: string): Promise<T> => (await import(pathToFileURL(`${dist}/src/${rel}`).href)) as T;
const { systemClock } = await load<typeof ClockModule>('chord/clock.js');
const { compareIds } = await load<typeof IdModule>('ring/id.js');
const { keyId } = await load<typeof HashModule>('ring/hash.js');
const { MemoryNetwork } = await load<typeof NetworkModule>('sim/memory-network.js');
const { oracleState } = await load<typeof OracleModule>('sim/oracle.js');
const { seededRandom } = await load<typeof RandomModule>('sim/random.js');
const { createSimPeer } = await load<typeof SimPeerModule>('sim/sim-peer.js');
const { encodeMessage, decodeMessage } = await load<typeof CodecModule>('wire/codec.js');

/** A message as the receiver gets it off TCP: encoded, in a buffer of its own, decoded. */
function overTheWire<M extends Message>(msg: M): M {
  const bytes = encodeMessage(1, msg);
  const copy = new Uint8Array(bytes.length);
  copy.set(bytes);
  return decodeMessage(Buffer.from(copy.buffer)).msg as M;
}

const random = seededRandom(7);
// Timers run on the real clock: nothing falls due within a run (no maintenance is started and
// request timeouts are cleared by their answers), and cleared timers are freed at once.
const network = new MemoryNetwork({ clock: systemClock }, { oneWay: true });
// The codec is wrapped around the network's transports here rather than built into MemoryNetwork:
// with `--dist` an older build's network runs under this harness, and it must pay the same codec.
const plain = network.transport.bind(network);
network.transport = (): Transport => {
  const t = plain();
  return {
    request: async (addr, req, o) => overTheWire(await t.request(addr, overTheWire(req), o)),
    send: (addr, req, o) => t.send!(addr, overTheWire(req), o),
  };
};
const peers = Array.from({ length: opts.peers }, (_, i) =>
  createSimPeer(network, { clock: systemClock, random }, { addr: `127.0.0.1:${20000 + i}`, chord: { successorListLength: SUCCESSORS }, store: { replicas: 3, repairIntervalMs: 3_600_000 } }),
);
try {
  peers.sort((a, b) => compareIds(a.chord.self.id, b.chord.self.id));
  const refs = peers.map((p) => p.chord.self);
  peers.forEach((p, k) => p.chord.bootstrap(oracleState(refs, k, SUCCESSORS)));
  const keys = Array.from({ length: opts.keys }, (_, i) => new TextEncoder().encode(`key-${i}`));
  const value = new Uint8Array(64);
  for (const k of keys) await peers[Math.floor(random() * peers.length)]!.store.put(k, value, false);
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(random() * xs.length)]!;

  const oneOp = async (): Promise<number> => {
    const peer = pick(peers);
    const key = pick(keys);
    if (op === 'get') {
      const r = await peer.store.get(key, cache);
      if (!r.found) throw new Error(`a get through ${peer.addr} did not find a key that was put`);
      return r.hops;
    }
    // Through the peer's handler, as a client's lookup arrives (with noRouteCache when the cache
    // is off, which the peer treats as a request that neither uses nor teaches its cache).
    const res = await peer.handler(cache ? { type: 'lookup', keyId: keyId(key) } : { type: 'lookup', keyId: keyId(key), noRouteCache: true });
    if (res.type !== 'lookupReply') throw new Error(`a lookup through ${peer.addr} was answered with ${res.type}`);
    return res.hops;
  };
  const sentSoFar = (): number => [...network.sent.values()].reduce((a, b) => a + b, 0);
  const round = async (): Promise<{ cpuUsPerOp: number; messagesPerOp: number; meanHops: number }> => {
    let left = opts.ops;
    let hops = 0;
    const sent0 = sentSoFar();
    const cpu0 = process.cpuUsage();
    await Promise.all(
      Array.from({ length: opts.concurrency }, async () => {
        while (left-- > 0) {
          const h = await oneOp(); // not `hops += await`: that reads hops before the await
          hops += h;
        }
      }),
    );
    const cpu = process.cpuUsage(cpu0);
    return { cpuUsPerOp: (cpu.user + cpu.system) / opts.ops, messagesPerOp: (sentSoFar() - sent0) / opts.ops, meanHops: hops / opts.ops };
  };

  await round(); // warm-up: JIT, and with the cache on, the caches fill
  const rounds = [];
  for (let i = 0; i < opts.rounds; i++) rounds.push(await round());
  const cpu = rounds.map((r) => r.cpuUsPerOp).sort((a, b) => a - b);
  const median = cpu[cpu.length >> 1]!;
  const fix = (x: number, d: number): number => Number(x.toFixed(d));
  const report = {
    op,
    cache: values.cache,
    peers: opts.peers,
    concurrency: opts.concurrency,
    opsPerRound: opts.ops,
    cpuUsPerOp: fix(median, 1),
    rounds: rounds.map((r) => ({ cpuUsPerOp: fix(r.cpuUsPerOp, 1), messagesPerOp: fix(r.messagesPerOp, 2), meanHops: fix(r.meanHops, 2) })),
  };
  if (values.json) process.stdout.write(`${JSON.stringify(report)}\n`);
  else {
    // One write: a reader that stops early (`| head -1`) then costs no EPIPE error.
    const lines = [`${op}, route cache ${values.cache}, ${opts.peers} peers, concurrency ${opts.concurrency}: median ${report.cpuUsPerOp} µs of CPU per operation`];
    for (const r of report.rounds) lines.push(`  ${r.cpuUsPerOp} µs/op, ${r.messagesPerOp} messages/op (peer to peer), ${r.meanHops} hops`);
    process.stdout.write(`${lines.join('\n')}\n`);
  }
} finally {
  for (const p of peers) p.stop();
}
