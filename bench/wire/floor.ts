/**
 * The floor under every message on this machine: what node itself spends to send one small
 * message over loopback TCP and receive it, with nothing of ours on the path, and next to it what
 * our wire layer spends for the same exchange.
 *   node dist/bench/wire/floor.js [--sockets 256] [--concurrency 1] [--bytes 100] [--messages 20000] [--rounds 5] [--json]
 * One thread: `sockets` echo servers and a client with one connection to each. `concurrency`
 * messages are in flight; each echo that comes back sends the next message on a connection picked
 * at random, so consecutive writes land on different sockets, as a routed operation's do. Reports
 * the CPU (user + system) per write, median of `rounds` rounds after one warm-up round.
 *
 * The "wire" rows do the same through src/wire: as many PeerServers answering `ping` with
 * `pong` from a handler, and a ConnectionPool client (framing, protobuf envelopes, request ids
 * and timeouts, the hello, the served request's bookkeeping). Its rounds alternate with the bare
 * ones, so both see the same minutes of a noisy machine.
 *
 * The relay of the wire baseline spends about this per message, and a routed operation can only
 * add to it: `make bench-hotpath HOTPATH_ARGS=--tcp` measures a get's CPU in the same one-thread
 * setting, so its figure over the get's messages, against this one, is what Chord, protobuf and
 * the request bookkeeping cost per message (README, "How far the targets are").
 */
import { createServer, connect, type Server, type Socket } from 'node:net';
import { parseFlags } from '../args.js';
import { PeerServer, formatAddr } from '../../src/net/peer-server.js';
import { ConnectionPool } from '../../src/wire/pool.js';
import { peerIdForAddr } from '../../src/ring/hash.js';
import { seededRandom } from '../../src/sim/random.js';

const OPTIONS = {
  sockets: { type: 'string', default: '256' },
  concurrency: { type: 'string', default: '1' },
  bytes: { type: 'string', default: '100' },
  messages: { type: 'string', default: '20000' },
  rounds: { type: 'string', default: '5' },
  json: { type: 'boolean', default: false },
} as const;
const { values } = parseFlags(OPTIONS);
const opts = {
  sockets: Number(values.sockets),
  concurrency: Number(values.concurrency),
  bytes: Number(values.bytes),
  messages: Number(values.messages),
  rounds: Number(values.rounds),
};
if (Object.values(opts).some((n) => !Number.isInteger(n) || n <= 0)) {
  process.stderr.write('bench-floor: --sockets, --concurrency, --bytes, --messages and --rounds must be positive integers\n');
  process.exit(2);
}

const servers: Server[] = [];
const clients: Socket[] = [];
const peerServers: PeerServer[] = [];
const pool = new ConnectionPool({ random: seededRandom(1) }, { self: null, requestTimeoutMs: 60_000, connectTimeoutMs: 60_000, idleTimeoutMs: 0 });
try {
  const addrs: string[] = [];
  for (let i = 0; i < opts.sockets; i++) {
    const server = new PeerServer({});
    peerServers.push(server);
    const addr = formatAddr('127.0.0.1', await server.listen('127.0.0.1', 0));
    server.serve({ id: peerIdForAddr(addr), addr }, () => ({ type: 'pong' }));
    addrs.push(addr);
  }
  for (const addr of addrs) await pool.request(addr, { type: 'ping' }); // every connection open
  for (let i = 0; i < opts.sockets; i++) {
    const server = createServer((s) => {
      s.setNoDelay(true);
      s.on('data', (d: Buffer) => s.write(d));
    });
    servers.push(server);
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(0, '127.0.0.1', () => resolve());
    });
  }
  for (const server of servers) {
    const { port } = server.address() as { port: number };
    const socket = await new Promise<Socket>((resolve, reject) => {
      const s = connect(port, '127.0.0.1', () => resolve(s));
      s.once('error', reject);
    });
    socket.setNoDelay(true);
    clients.push(socket);
  }

  const message = Buffer.alloc(opts.bytes, 0x5a);
  const pick = (): Socket => clients[Math.floor(Math.random() * clients.length)]!;

  /** One round: `messages` echoes; returns CPU and wall time per write (two writes per echo). */
  const round = (): Promise<{ cpuUs: number; wallUs: number }> =>
    new Promise((resolve) => {
      let sent = 0;
      let echoed = 0;
      const cpu0 = process.cpuUsage();
      const t0 = performance.now();
      const pending = new Map<Socket, number>();
      const onData = (socket: Socket, chunk: Buffer): void => {
        // Bytes, not chunks: echoes of two messages on one socket may arrive as one read.
        let bytes = (pending.get(socket) ?? 0) + chunk.length;
        while (bytes >= opts.bytes) {
          bytes -= opts.bytes;
          echoed++;
          if (sent < opts.messages) {
            sent++;
            pick().write(message);
          } else if (echoed === opts.messages) {
            const cpu = process.cpuUsage(cpu0);
            const wall = performance.now() - t0;
            for (const [s, fn] of listeners) s.off('data', fn);
            resolve({ cpuUs: (cpu.user + cpu.system) / (2 * opts.messages), wallUs: (wall * 1000) / (2 * opts.messages) });
          }
        }
        pending.set(socket, bytes);
      };
      const listeners = clients.map((s) => [s, (chunk: Buffer) => onData(s, chunk)] as const);
      for (const [s, fn] of listeners) s.on('data', fn);
      for (let i = 0; i < Math.min(opts.concurrency, opts.messages); i++) {
        sent++;
        pick().write(message);
      }
    });

  /** The same exchange through src/wire: `messages` ping requests, each answered with a pong. */
  const wireRound = async (): Promise<{ cpuUs: number; wallUs: number }> => {
    let left = opts.messages;
    const cpu0 = process.cpuUsage();
    const t0 = performance.now();
    await Promise.all(
      Array.from({ length: Math.min(opts.concurrency, opts.messages) }, async () => {
        while (left-- > 0) await pool.request(addrs[Math.floor(Math.random() * addrs.length)]!, { type: 'ping' });
      }),
    );
    const cpu = process.cpuUsage(cpu0);
    const wall = performance.now() - t0;
    return { cpuUs: (cpu.user + cpu.system) / (2 * opts.messages), wallUs: (wall * 1000) / (2 * opts.messages) };
  };

  await round(); // warm-up: JIT, socket buffers
  await wireRound();
  const rounds: Array<{ cpuUs: number; wallUs: number }> = [];
  const wireRounds: Array<{ cpuUs: number; wallUs: number }> = [];
  for (let i = 0; i < opts.rounds; i++) {
    // Alternate which goes first, so neither always runs on the heels of the other.
    if (i % 2 === 0) {
      rounds.push(await round());
      wireRounds.push(await wireRound());
    } else {
      wireRounds.push(await wireRound());
      rounds.push(await round());
    }
  }
  const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[xs.length >> 1]!;
  const fix = (x: number): number => Number(x.toFixed(1));
  const report = {
    sockets: opts.sockets,
    concurrency: opts.concurrency,
    bytes: opts.bytes,
    writesPerRound: 2 * opts.messages,
    cpuUsPerWrite: fix(median(rounds.map((r) => r.cpuUs))),
    wallUsPerWrite: fix(median(rounds.map((r) => r.wallUs))),
    rounds: rounds.map((r) => ({ cpuUsPerWrite: fix(r.cpuUs), wallUsPerWrite: fix(r.wallUs) })),
    wire: {
      cpuUsPerMessage: fix(median(wireRounds.map((r) => r.cpuUs))),
      wallUsPerMessage: fix(median(wireRounds.map((r) => r.wallUs))),
      rounds: wireRounds.map((r) => ({ cpuUsPerMessage: fix(r.cpuUs), wallUsPerMessage: fix(r.wallUs) })),
    },
  };
  if (values.json) console.log(JSON.stringify(report));
  else {
    console.log(`bare node, ${opts.sockets} sockets, ${opts.concurrency} in flight, ${opts.bytes}-byte messages: median ${report.cpuUsPerWrite} µs of CPU per message (send and receive), ${report.wallUsPerWrite} µs of wall time`);
    console.log(`src/wire (ConnectionPool to PeerServers, ping/pong): median ${report.wire.cpuUsPerMessage} µs of CPU per message, ${report.wire.wallUsPerMessage} µs of wall time (${(report.wire.cpuUsPerMessage / report.cpuUsPerWrite).toFixed(2)}x bare node)`);
    for (let i = 0; i < rounds.length; i++) {
      console.log(`  round ${i + 1}: bare ${report.rounds[i]!.cpuUsPerWrite} µs CPU, ${report.rounds[i]!.wallUsPerWrite} µs wall; wire ${report.wire.rounds[i]!.cpuUsPerMessage} µs CPU, ${report.wire.rounds[i]!.wallUsPerMessage} µs wall`);
    }
  }
} finally {
  for (const s of clients) s.destroy();
  await pool.close();
  await Promise.all(peerServers.map((s) => s.close()));
  await Promise.all(servers.map((s) => new Promise<void>((resolve) => s.close(() => resolve()))));
}
