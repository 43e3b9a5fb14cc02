/**
 * Peer memory under hostile input: a 3-peer ring of real `chord node` processes; one of them is
 * sent garbage (random bytes, gigabyte length prefixes, valid frames with invalid contents,
 * stalled half frames, silent clients, 500 idle connections, a pipelined request flood), and its
 * resident memory is read from /proc before, at the peak (VmHWM) and after. The peer must then
 * still answer correct lookups and gets. Linux only (/proc).
 *   node dist/bench/hostile.js [--rounds 3] [--flood 100000]
 * Prints one JSON object and writes bench/results/hostile-latest.json. Exit 1 when the peer died
 * or answered wrong afterwards.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { readFileSync, writeFileSync, mkdirSync } from 'node:fs';
import { connect, type Socket } from 'node:net';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { parseFlags } from './args.js';
import { RingClient } from '../src/net/client.js';
import { PROTOCOL_VERSION, type Message } from '../src/protocol/messages.js';
import { idToHex } from '../src/ring/index.js';
import { TrueRing } from '../src/host/health.js';
import { encodeFrame, encodeFrames, encodeMessage } from '../src/wire/index.js';

const CLI = fileURLToPath(new URL('../cli.js', import.meta.url));
const { values } = parseFlags({ rounds: { type: 'string', default: '3' }, flood: { type: 'string', default: '100000' } });
const rounds = Number(values.rounds);
const floodCount = Number(values.flood);
if (!(rounds >= 1 && rounds <= 100)) throw new Error(`--rounds ${values.rounds}: use 1 to 100`);
if (!(floodCount >= 1 && floodCount <= 10_000_000)) throw new Error(`--flood ${values.flood}: use 1 to 10000000`);

/** Short limits so a round finishes quickly; the defaults (10 s) behave the same, only slower. */
const TIMEOUT_MS = 1000;

interface Peer { proc: ChildProcess; addr: string; id: string }

function startNode(extra: string[]): Promise<Peer> {
  const proc = spawn(process.execPath, [CLI, 'node', '--port', '0', '--stabilize-ms', '200', '--log-level', 'error', '--hello-timeout-ms', String(TIMEOUT_MS), '--frame-timeout-ms', String(TIMEOUT_MS), '--max-connections', '256', ...extra], {
    stdio: ['ignore', 'pipe', 'ignore'],
  });
  return new Promise((resolve, reject) => {
    createInterface({ input: proc.stdout! }).once('line', (line) => {
      const ready = JSON.parse(line) as { id: string; addr: string };
      resolve({ proc, addr: ready.addr, id: ready.id });
    });
    proc.once('exit', (code) => reject(new Error(`chord node exited with ${code}`)));
  });
}

/** VmRSS and VmHWM (peak) of a process, in MiB. */
function memoryOf(pid: number): { rssMiB: number; peakMiB: number } {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const kb = (name: string): number => Number(new RegExp(`^${name}:\\s+(\\d+) kB`, 'm').exec(status)?.[1] ?? NaN);
  return { rssMiB: Math.round(kb('VmRSS') / 102.4) / 10, peakMiB: Math.round(kb('VmHWM') / 102.4) / 10 };
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** Opens a raw socket, writes `bytes` (if any), keeps reading (discarding) until the peer closes it. */
function raw(addr: string, bytes?: Uint8Array): Promise<Socket> {
  const [host, port] = [addr.slice(0, addr.lastIndexOf(':')), Number(addr.slice(addr.lastIndexOf(':') + 1))];
  return new Promise((resolve) => {
    const s = connect({ host, port });
    s.on('error', () => undefined);
    s.resume();
    s.once('connect', () => {
      if (bytes) s.write(bytes);
      resolve(s);
    });
    s.once('close', () => resolve(s));
  });
}

const hello = (): Uint8Array => encodeFrame(encodeMessage(0, { type: 'hello', version: PROTOCOL_VERSION, peer: null }));
const frame = (reqId: number, msg: Message): Uint8Array => encodeFrame(encodeMessage(reqId, msg));

/** Valid frames with invalid contents: ids of the wrong length, absurd counts, unknown bodies. */
function invalidContents(): Uint8Array[] {
  const badId = new Uint8Array(7).fill(1);
  const huge = Buffer.alloc(900 * 1024, 7); // under the 1 MiB frame limit, over the value limit
  const unknownBody = Buffer.concat([Buffer.from([0x08, 0x01]), Buffer.from([0xfa, 0x07, 0x00])]); // req_id 1 + field 127
  const lengthPrefixed = (b: Uint8Array): Uint8Array => encodeFrame(b);
  return [
    frame(1, { type: 'findSuccessor', key: badId }),
    frame(2, { type: 'lookup', keyId: badId }),
    frame(3, { type: 'notify', peer: { id: badId, addr: 'not an address' } }),
    frame(4, { type: 'put', key: new Uint8Array(0), value: huge }),
    frame(5, { type: 'sample', count: 0xffff_ffff }),
    frame(6, { type: 'replicate', records: Array.from({ length: 5000 }, (_, i) => ({ key: Buffer.from(`k${i}`), value: Buffer.alloc(0), version: -1, deleted: false })) }),
    frame(7, { type: 'leave', peer: { id: badId, addr: '' }, predecessor: null, successors: [] }),
    lengthPrefixed(unknownBody),
  ];
}

/** One pass of every kind of hostile client; resolves once the peer has dropped all of them. */
async function hostileRound(addr: string): Promise<Record<string, number>> {
  const open: Socket[] = [];
  const counts: Record<string, number> = {};
  const add = async (kind: string, n: number, bytes: () => Uint8Array | undefined): Promise<void> => {
    counts[kind] = (counts[kind] ?? 0) + n;
    for (let i = 0; i < n; i += 50) {
      open.push(...(await Promise.all(Array.from({ length: Math.min(50, n - i) }, () => raw(addr, bytes())))));
    }
  };
  await add('randomBytes', 200, () => randomBytes(1 + Math.floor(Math.random() * 65536)));
  await add('gigabytePrefix', 200, () => Buffer.concat([Buffer.from([0x7f, 0xff, 0xff, 0xf0]), randomBytes(64)]));
  const invalid = invalidContents();
  await add('invalidContents', 200, () => Buffer.concat([hello(), ...invalid.map(Buffer.from)]));
  const half = frame(1, { type: 'ping' });
  await add('halfFrame', 200, () => Buffer.concat([hello(), half.subarray(0, half.length - 1)]));
  await add('noHello', 200, () => undefined);
  await add('idleAfterHello', 500, hello);

  // The flood: one client pipelines `floodCount` requests at once and reads every answer.
  counts.floodRequests = floodCount;
  const flood = await raw(addr);
  let answered = 0;
  let acked!: () => void;
  const helloAcked = new Promise<void>((resolve) => (acked = resolve));
  const done = new Promise<void>((resolve) => {
    let buffered = Buffer.alloc(0);
    flood.removeAllListeners('data');
    flood.on('data', (chunk: Buffer) => {
      buffered = Buffer.concat([buffered, chunk]);
      while (buffered.length >= 4 && buffered.length >= 4 + buffered.readUInt32BE(0)) {
        buffered = buffered.subarray(4 + buffered.readUInt32BE(0));
        answered++;
        if (answered === 1) acked();
      }
      if (answered >= floodCount + 1) resolve(); // + the helloAck
    });
    flood.once('close', () => {
      acked();
      resolve();
    });
  });
  flood.write(hello());
  // A client may pipeline only a few frames before the helloAck (more is a protocol error): wait for it.
  await Promise.race([helloAcked, done]);
  const batch = 5000;
  for (let i = 0; i < floodCount; i += batch) {
    const frames = Array.from({ length: Math.min(batch, floodCount - i) }, (_, j) => encodeMessage(i + j + 1, { type: 'ping' }));
    if (!flood.write(encodeFrames(frames))) await new Promise((r) => flood.once('drain', r));
  }
  await done;
  counts.floodAnswered = answered - 1;
  flood.destroy();

  // Every hostile connection is dropped by the peer on its own (errors, timeouts, the limit) …
  // except idle ones under the limit, which we close ourselves after the timeouts have passed.
  await sleep(TIMEOUT_MS * 2);
  counts.closedByPeer = open.filter((s) => s.destroyed || s.readableEnded).length;
  for (const s of open) s.destroy();
  return counts;
}

async function checkServes(client: RingClient, peers: Peer[], via: string, keys: string[]): Promise<number> {
  const ring = new TrueRing(peers.map((p) => p.id));
  let wrong = 0;
  for (const k of keys) {
    const found = await client.lookup(via, k);
    if (idToHex(found.owner.id) !== ring.successorOf(found.keyId)) wrong++;
    const got = await client.get(via, k);
    if (!got.found || Buffer.from(got.value).toString() !== `v-${k}`) wrong++;
  }
  return wrong;
}

const peers: Peer[] = [];
let exitCode = 0;
try {
  peers.push(await startNode([]));
  peers.push(await startNode(['--join', peers[0]!.addr]));
  peers.push(await startNode(['--join', peers[0]!.addr]));
  const target = peers[1]!;
  const client = new RingClient({ requestTimeoutMs: 10_000 });
  const keys = Array.from({ length: 200 }, (_, i) => `key-${i}`);
  await sleep(2000); // a few stabilize rounds
  for (const k of keys) await client.put(peers[0]!.addr, k, `v-${k}`);
  await sleep(1000);
  const before = memoryOf(target.proc.pid!);
  const perRound: Array<Record<string, number | object>> = [];
  for (let r = 0; r < rounds; r++) {
    const counts = await hostileRound(target.addr);
    const wrong = await checkServes(client, peers, target.addr, keys);
    perRound.push({ ...counts, wrongAnswersAfter: wrong, memory: memoryOf(target.proc.pid!) });
    if (wrong > 0 || target.proc.exitCode !== null) exitCode = 1;
  }
  await sleep(3000); // let the peer's heap settle (timers, GC) before the last reading
  const after = memoryOf(target.proc.pid!);
  await client.close();
  const result = {
    when: new Date().toISOString(),
    rounds,
    flood: floodCount,
    rssBeforeMiB: before.rssMiB,
    rssPeakMiB: after.peakMiB,
    rssAfterMiB: after.rssMiB,
    peerAlive: target.proc.exitCode === null,
    perRound,
  };
  const json = JSON.stringify(result, null, 2);
  console.log(json);
  mkdirSync('bench/results', { recursive: true });
  writeFileSync('bench/results/hostile-latest.json', json + '\n');
} finally {
  for (const p of peers) p.proc.kill('SIGTERM');
  await Promise.all(peers.map((p) => new Promise((r) => (p.proc.exitCode !== null ? r(null) : p.proc.once('exit', r)))));
}
process.exitCode = exitCode;
