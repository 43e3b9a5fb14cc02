/**
 * CPU per operation above the wire, in one thread, without sockets:
 *   node dist/bench/hotpath.js [--peers 256] [--op get|lookup] [--cache off|on] [--ops 20000]
 *     [--rounds 5] [--concurrency 64] [--tcp] [--json] [--dist DIR] [--against DIR]
 * (or `make bench-hotpath HOTPATH_ARGS=...`). The peers are the real ChordPeer and KvStore on the
 * in-memory network, bootstrapped into a correct ring (no maintenance runs), and every message and
 * answer goes through the real codec: encoded, copied into a buffer of its own as a socket read
 * would deliver it, decoded. What is left out is the kernel, the socket and stream machinery and
 * the request bookkeeping of src/wire, which `make bench-messages` and the wire baseline cover.
 *
 * With no other thread and no kernel path in the measurement, rounds differ by far less than
 * cluster runs do, so a change to routing, the route cache, the store or the codec shows here
 * when a cluster's noise would hide it. `--dist` runs another build's code under this harness.
 *
 * `--tcp` puts the wire back in, still in one thread: every peer is a real PeerServer on
 * 127.0.0.1 with the shared ConnectionPool transport a host worker gives its peers, and the
 * operations come from a client ConnectionPool as `chord bench`'s do. The CPU per operation then
 * includes the kernel's loopback path, node's sockets and streams and src/wire, on both ends: what
 * a cluster's host and load generator spend together, without threads competing for two cores
 * (see tcp-world.ts).
 *
 * `--against DIR` builds the same world a second time from another build's dist/ in this process
 * and alternates rounds between the two (this build first in odd rounds, second in even ones):
 * the machine's speed drifts over seconds, and rounds a second apart see the same machine where
 * separate processes a minute apart do not. It reports both medians and in how many rounds this
 * build spent less (`make bench-ab REF=... AB_ARGS=--hotpath` uses it).
 */
import { resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { parseFlags } from './args.js';
import { startTcpWorld } from './tcp-world.js';
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
  tcp: { type: 'boolean', default: false },
  json: { type: 'boolean', default: false },
  dist: { type: 'string' },
  against: { type: 'string' },
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

const here = values.dist !== undefined ? resolve(values.dist) : resolve(new URL('..', import.meta.url).pathname);

/** The modules of the build whose dist/ is `dist`. */
async function loadBuild(dist: string) {
  const load = async <T>(rel: string): Promise<T> => (await import(pathToFileURL(`${dist}/src/${rel}`).href)) as T;
  return {
    dist,
    ...(await load<typeof ClockModule>('chord/clock.js')),
    ...(await load<typeof IdModule>('ring/id.js')),
    ...(await load<typeof HashModule>('ring/hash.js')),
    ...(await load<typeof NetworkModule>('sim/memory-network.js')),
    ...(await load<typeof OracleModule>('sim/oracle.js')),
    ...(await load<typeof RandomModule>('sim/random.js')),
    ...(await load<typeof SimPeerModule>('sim/sim-peer.js')),
    ...(await load<typeof CodecModule>('wire/codec.js')),
  };
}
type Build = Awaited<ReturnType<typeof loadBuild>>;

const base = await loadBuild(here);
const random = base.seededRandom(7);
const keys = Array.from({ length: opts.keys }, (_, i) => new TextEncoder().encode(`key-${i}`));
const value = new Uint8Array(64);
const pick = <T>(xs: readonly T[]): T => xs[Math.floor(random() * xs.length)]!;

/** One world to drive: its operation, the peer-to-peer messages sent so far (when countable), shutdown. */
interface Driver {
  oneOp(): Promise<number>;
  sent(): number | null;
  close(): Promise<void>;
}

/** The real peers on the in-memory network, each message through the build's codec. */
async function memoryDriver(b: Build): Promise<Driver> {
  /** A message as the receiver gets it off TCP: encoded, in a buffer of its own, decoded. */
  const overTheWire = <M extends Message>(msg: M): M => {
    const bytes = b.encodeMessage(1, msg);
    const copy = new Uint8Array(bytes.length);
    copy.set(bytes);
    return b.decodeMessage(Buffer.from(copy.buffer)).msg as M;
  };
  // Timers run on the real clock: nothing falls due within a run (no maintenance is started and
  // request timeouts are cleared by their answers), and cleared timers are freed at once.
  const network = new b.MemoryNetwork({ clock: b.systemClock }, { oneWay: true });
  // The codec is wrapped around the network's transports here rather than built into MemoryNetwork:
  // with `--dist` an older build's network runs under this harness, and it must pay the same codec.
  const plain = network.transport.bind(network);
  network.transport = (): Transport => {
    const t = plain();
    const wrapped: Transport = {
      request: async (addr, req, o) => overTheWire(await t.request(addr, overTheWire(req), o)),
      send: (addr, req, o) => t.send!(addr, overTheWire(req), o),
    };
    // Builds whose network has it (as TCP has) forward a hop without a promise.
    const trySend = t.trySend;
    if (trySend !== undefined) wrapped.trySend = (addr, req) => trySend.call(t, addr, overTheWire(req));
    return wrapped;
  };
  const peers = Array.from({ length: opts.peers }, (_, i) =>
    b.createSimPeer(network, { clock: b.systemClock, random }, { addr: `127.0.0.1:${20000 + i}`, chord: { successorListLength: SUCCESSORS }, store: { replicas: 3, repairIntervalMs: 3_600_000 } }),
  );
  const close = (): Promise<void> => {
    for (const p of peers) p.stop();
    return Promise.resolve();
  };
  try {
    peers.sort((x, y) => b.compareIds(x.chord.self.id, y.chord.self.id));
    const refs = peers.map((p) => p.chord.self);
    peers.forEach((p, k) => p.chord.bootstrap(b.oracleState(refs, k, SUCCESSORS)));
    for (const k of keys) await pick(peers).store.put(k, value, false);
  } catch (err) {
    await close();
    throw err;
  }
  return {
    oneOp: async () => {
      const peer = pick(peers);
      const key = pick(keys);
      if (op === 'get') {
        const r = await peer.store.get(key, cache);
        if (!r.found) throw new Error(`a get through ${peer.addr} did not find a key that was put`);
        return r.hops;
      }
      // Through the peer's handler, as a client's lookup arrives (with noRouteCache when the cache
      // is off, which the peer treats as a request that neither uses nor teaches its cache).
      const res = await peer.handler(cache ? { type: 'lookup', keyId: b.keyId(key) } : { type: 'lookup', keyId: b.keyId(key), noRouteCache: true });
      if (res.type !== 'lookupReply') throw new Error(`a lookup through ${peer.addr} was answered with ${res.type}`);
      return res.hops;
    },
    sent: () => [...network.sent.values()].reduce((x, y) => x + y, 0),
    close,
  };
}

/** The real peers over loopback TCP, the operations from a client pool as `chord bench` sends them. */
async function tcpDriver(b: Build): Promise<Driver> {
  const world = await startTcpWorld(b.dist, { peers: opts.peers, successors: SUCCESSORS, random });
  try {
    for (const key of keys) {
      const res = await world.request(pick(world.addrs), { type: 'put', key, value });
      if (res.type !== 'putReply') throw new Error(`a put was answered with ${res.type}`);
    }
  } catch (err) {
    await world.close();
    throw err;
  }
  const noRouteCache = !cache;
  return {
    oneOp: async () => {
      const addr = pick(world.addrs);
      const key = pick(keys);
      if (op === 'get') {
        const res = await world.request(addr, noRouteCache ? { type: 'get', key, noRouteCache } : { type: 'get', key });
        if (res.type !== 'getReply' || !res.found) throw new Error(`a get through ${addr} did not find a key that was put`);
        return res.hops;
      }
      const res = await world.request(addr, noRouteCache ? { type: 'lookup', keyId: b.keyId(key), noRouteCache } : { type: 'lookup', keyId: b.keyId(key) });
      if (res.type !== 'lookupReply') throw new Error(`a lookup through ${addr} was answered with ${res.type}`);
      return res.hops;
    },
    sent: () => null,
    close: () => world.close(),
  };
}

interface Round {
  cpuUsPerOp: number;
  messagesPerOp: number | null;
  meanHops: number;
}

async function round(driver: Driver): Promise<Round> {
  let left = opts.ops;
  let hops = 0;
  const sent0 = driver.sent();
  const cpu0 = process.cpuUsage();
  await Promise.all(
    Array.from({ length: opts.concurrency }, async () => {
      while (left-- > 0) {
        const h = await driver.oneOp(); // not `hops += await`: that reads hops before the await
        hops += h;
      }
    }),
  );
  const cpu = process.cpuUsage(cpu0);
  const sent1 = driver.sent();
  return { cpuUsPerOp: (cpu.user + cpu.system) / opts.ops, messagesPerOp: sent0 === null || sent1 === null ? null : (sent1 - sent0) / opts.ops, meanHops: hops / opts.ops };
}

const fix = (x: number, d: number): number => Number(x.toFixed(d));
const medianOf = (xs: readonly number[]): number => [...xs].sort((x, y) => x - y)[xs.length >> 1]!;
const shown = (r: Round) => ({ cpuUsPerOp: fix(r.cpuUsPerOp, 1), ...(r.messagesPerOp === null ? {} : { messagesPerOp: fix(r.messagesPerOp, 2) }), meanHops: fix(r.meanHops, 2) });
const startDriver = (b: Build): Promise<Driver> => (values.tcp ? tcpDriver(b) : memoryDriver(b));
const where = values.tcp ? ', over loopback TCP with the client' : '';
const setting = { op, cache: values.cache, transport: values.tcp ? 'tcp' : 'memory', peers: opts.peers, concurrency: opts.concurrency, opsPerRound: opts.ops };

const drivers: Driver[] = [];
try {
  drivers.push(await startDriver(base));
  if (values.against !== undefined) drivers.push(await startDriver(await loadBuild(resolve(values.against))));
  // Warm-up: JIT, and with the cache on, the caches fill.
  for (const d of drivers) await round(d);
  if (drivers.length === 1) {
    const rounds: Round[] = [];
    for (let i = 0; i < opts.rounds; i++) rounds.push(await round(drivers[0]!));
    const report = { ...setting, cpuUsPerOp: fix(medianOf(rounds.map((r) => r.cpuUsPerOp)), 1), rounds: rounds.map(shown) };
    if (values.json) process.stdout.write(`${JSON.stringify(report)}\n`);
    else {
      // One write: a reader that stops early (`| head -1`) then costs no EPIPE error.
      const lines = [`${op}, route cache ${values.cache}, ${opts.peers} peers, concurrency ${opts.concurrency}${where}: median ${report.cpuUsPerOp} µs of CPU per operation`];
      for (const r of report.rounds) lines.push(`  ${r.cpuUsPerOp} µs/op, ${'messagesPerOp' in r ? `${r.messagesPerOp} messages/op (peer to peer), ` : ''}${r.meanHops} hops`);
      process.stdout.write(`${lines.join('\n')}\n`);
    }
  } else {
    const [mine, theirs] = [[] as Round[], [] as Round[]];
    for (let i = 0; i < opts.rounds; i++) {
      // The order flips every round, so neither build always runs just after the other's garbage.
      if (i % 2 === 0) {
        mine.push(await round(drivers[0]!));
        theirs.push(await round(drivers[1]!));
      } else {
        theirs.push(await round(drivers[1]!));
        mine.push(await round(drivers[0]!));
      }
    }
    const ahead = mine.filter((r, i) => r.cpuUsPerOp < theirs[i]!.cpuUsPerOp).length;
    const report = {
      ...setting,
      against: resolve(values.against!),
      cpuUsPerOp: fix(medianOf(mine.map((r) => r.cpuUsPerOp)), 1),
      againstCpuUsPerOp: fix(medianOf(theirs.map((r) => r.cpuUsPerOp)), 1),
      ahead,
      rounds: mine.map((r, i) => ({ this: shown(r), against: shown(theirs[i]!) })),
    };
    if (values.json) process.stdout.write(`${JSON.stringify(report)}\n`);
    else {
      const lines = [
        `${op}, route cache ${values.cache}, ${opts.peers} peers, concurrency ${opts.concurrency}${where}: median ${report.cpuUsPerOp} µs of CPU per operation, ${report.againstCpuUsPerOp} for ${values.against}; less in ${ahead} of ${opts.rounds} rounds`,
      ];
      for (const r of report.rounds) lines.push(`  ${r.this.cpuUsPerOp} vs ${r.against.cpuUsPerOp} µs/op, ${r.this.meanHops} vs ${r.against.meanHops} hops`);
      process.stdout.write(`${lines.join('\n')}\n`);
    }
  }
} finally {
  for (const d of drivers) await d.close();
}
