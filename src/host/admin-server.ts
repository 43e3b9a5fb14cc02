/**
 * The host's admin HTTP API (JSON over node:http):
 *   GET    /api/peers                       every live peer: id, addr, worker, predecessor, successors, keys
 *   POST   /api/peers {"count": n}          adds n peers
 *   DELETE /api/peers/<id>?mode=leave|crash removes one peer
 *   GET    /api/health                      consistency against the true ring and replica coverage
 *   GET    /api/peers/<id>                  one peer, with its fingers (runs of equal entries)
 *   GET    /api/lookup?key=K&via=ID|ADDR[&cache=false]  a lookup through one peer: owner, hops, path
 *   GET    /api/events                      server-sent events: the membership whenever it changes
 *   GET    /                                the ring view (src/host/ui), a page over the routes above
 *   GET    /metrics[?per_peer=false]        Prometheus text: per peer and summed over the cluster
 * Errors are `{"error": "..."}` with a 4xx/5xx status; a bad request never disturbs the cluster.
 */
import http from 'node:http';
import { ErrorCode, RingwireError, describeError } from '../errors/errors.js';
import { silentLogger, type Logger } from '../log/logger.js';
import { RingClient } from '../net/client.js';
import { idToHex } from '../ring/index.js';
import type { ClusterHost } from './cluster-host.js';
import { RingEvents, summarize } from './ring-events.js';
import { uiFile } from './ui-files.js';
import { METRICS_CONTENT_TYPE, renderMetrics } from '../metrics/prometheus.js';
import type { PeerSnapshot } from './worker-protocol.js';

const MAX_BODY_BYTES = 64 * 1024;
const MAX_ADD = 1024;
const MAX_KEY_CHARS = 1024;

export const ADMIN_DEFAULTS = Object.freeze({
  eventsIntervalMs: 1000, // how often the ring view's event stream looks for membership changes
});

export interface AdminInit {
  /** @default ADMIN_DEFAULTS.eventsIntervalMs */
  eventsIntervalMs?: number;
}

/** A run of equal finger entries: fingers start..end (inclusive) all point at `id`. */
export interface FingerRun {
  start: number;
  end: number;
  id: string;
  addr: string | null;
}

class HttpError extends Error {
  constructor(readonly status: number, message: string) {
    super(message);
  }
}

export class AdminServer {
  private readonly server: http.Server;
  private readonly host: ClusterHost;
  private readonly log: Logger;
  private readonly events: RingEvents;
  /** Clients for lookups: through the entry peer's route cache, and plain Chord routing. */
  private readonly clients: { cached?: RingClient; plain?: RingClient } = {};

  constructor(components: { host: ClusterHost; log?: Logger }, init: AdminInit = {}) {
    this.host = components.host;
    this.log = components.log ?? silentLogger;
    this.events = new RingEvents(
      { poll: async () => (await this.host.snapshot(false, false)).peers.map(summarize), log: this.log },
      { intervalMs: init.eventsIntervalMs ?? ADMIN_DEFAULTS.eventsIntervalMs },
    );
    this.server = http.createServer((req, res) => {
      if (this.serveStream(req, res)) return;
      this.route(req).then(
        ({ status, body }) => send(res, status, body),
        (err: unknown) => {
          const status = err instanceof HttpError ? err.status : err instanceof RingwireError && err.code === ErrorCode.NOT_FOUND ? 404 : 500;
          if (status >= 500) this.log.error('admin request failed', { url: req.url, err: describeError(err) });
          send(res, status, { error: err instanceof Error ? err.message : String(err) });
        },
      );
    });
    this.server.keepAliveTimeout = 1000;
  }

  listen(hostname: string, port: number): Promise<number> {
    return new Promise((resolve, reject) => {
      this.server.once('error', reject);
      this.server.listen({ host: hostname, port }, () => {
        this.server.off('error', reject);
        const a = this.server.address();
        resolve(typeof a === 'object' && a ? a.port : port);
      });
    });
  }

  close(): Promise<void> {
    this.events.close();
    void this.clients.cached?.close();
    void this.clients.plain?.close();
    this.server.closeAllConnections();
    return new Promise((resolve) => this.server.close(() => resolve()));
  }

  /** Routes that answer with something other than one JSON body; true when handled. */
  private serveStream(req: http.IncomingMessage, res: http.ServerResponse): boolean {
    if (req.method !== 'GET') return false;
    const path = new URL(req.url ?? '/', 'http://admin').pathname;
    if (path === '/api/events') {
      this.events.subscribe(req, res);
      return true;
    }
    if (path === '/metrics') {
      this.metrics(new URL(req.url ?? '/', 'http://admin')).then(
        (text) => {
          res.writeHead(200, { 'content-type': METRICS_CONTENT_TYPE, 'content-length': Buffer.byteLength(text) });
          res.end(text);
        },
        (err: unknown) => {
          this.log.error('metrics scrape failed', { err: describeError(err) });
          send(res, 500, { error: `metrics scrape failed: ${describeError(err)}` });
        },
      );
      return true;
    }
    let file: ReturnType<typeof uiFile>;
    try {
      file = uiFile(path);
    } catch (err) {
      // A broken install must not take the cluster down with it: say what is missing.
      this.log.error('ring view file missing', { err: describeError(err) });
      send(res, 500, { error: describeError(err) });
      return true;
    }
    if (!file) return false;
    res.writeHead(200, { 'content-type': file.type, 'content-length': file.body.length, 'cache-control': 'no-cache' });
    res.end(file.body);
    return true;
  }

  /** Every peer's counters from the workers, plus the cluster's health against the true ring. */
  private async metrics(url: URL): Promise<string> {
    const [samples, health] = await Promise.all([this.host.metrics(), this.host.health(true)]);
    return renderMetrics(samples.peers, {
      perPeer: url.searchParams.get('per_peer') !== 'false',
      pools: samples.pools,
      extra: {
        ringwire_cluster_ring_consistent_ratio: ['Fraction of peers whose predecessor and successor list match the true ring.', health.ringConsistent],
        ringwire_cluster_fully_consistent_ratio: ['Fraction of peers whose fingers also all match the true ring.', health.fullyConsistent],
        ringwire_cluster_keys: ['Distinct live keys held across the cluster.', health.keys ?? 0],
        ringwire_cluster_keys_below_replica_target: ['Keys held by fewer peers of their true replica set than the replica target.', health.keysBelowReplicaTarget ?? 0],
        ringwire_cluster_dead_workers: ['Worker threads that died.', this.host.deadWorkers.length],
      },
    });
  }

  /** One peer with its fingers as runs of equal entries (160 entries collapse to a few dozen). */
  private async peerDetails(id: string): Promise<unknown> {
    const peer = await this.host.peerSnapshot(id);
    if (!peer) throw new HttpError(404, `no live peer with id ${id}`);
    return { ...summarize(peer), stored: peer.stored, fingers: fingerRuns(peer, this.host.list()) };
  }

  /** A lookup of `key` entered at peer `via` (an id or address; default the first live peer). */
  private async lookup(url: URL): Promise<unknown> {
    const key = url.searchParams.get('key');
    if (key === null || key.length === 0 || key.length > MAX_KEY_CHARS) throw new HttpError(400, `key must be given, 1 to ${MAX_KEY_CHARS} characters: /api/lookup?key=K&via=ID|ADDR`);
    const list = this.host.list();
    const viaParam = url.searchParams.get('via');
    const entry = viaParam ? list.find((p) => p.id === viaParam || p.addr === viaParam) : list[0];
    if (!entry) throw new HttpError(viaParam ? 404 : 409, viaParam ? `via ${JSON.stringify(viaParam)} is not the id or address of a live peer` : 'the cluster has no live peer');
    // cache=false asks for plain Chord routing, skipping the entry peer's route cache: the path
    // then shows the fingers at work rather than one hop to a remembered owner.
    const plain = url.searchParams.get('cache') === 'false';
    const client = plain ? (this.clients.plain ??= new RingClient({ routeCache: false })) : (this.clients.cached ??= new RingClient());
    const res = await client.lookup(entry.addr, key);
    return {
      key,
      keyId: idToHex(res.keyId),
      via: { id: entry.id, addr: entry.addr },
      routeCache: !plain,
      owner: { id: idToHex(res.owner.id), addr: res.owner.addr },
      hops: res.hops,
      path: res.path.map((p) => ({ id: idToHex(p.id), addr: p.addr })),
    };
  }

  private async route(req: http.IncomingMessage): Promise<{ status: number; body: unknown }> {
    const url = new URL(req.url ?? '/', 'http://admin');
    const path = url.pathname.replace(/\/+$/, '');
    if (path === '/api/lookup' && req.method === 'GET') return { status: 200, body: await this.lookup(url) };
    if (path === '/api/peers' && req.method === 'GET') {
      const { peers } = await this.host.snapshot(false, false);
      return { status: 200, body: peers.map(summarize) };
    }
    if (path === '/api/peers' && req.method === 'POST') {
      const body = await readJson(req);
      const count = (body as { count?: unknown } | null)?.count;
      if (typeof count !== 'number' || !Number.isInteger(count) || count < 1 || count > MAX_ADD) {
        throw new HttpError(400, `body must be {"count": n} with n an integer from 1 to ${MAX_ADD}`);
      }
      const added = await this.host.addPeers(count);
      return { status: 201, body: { added } };
    }
    const m = /^\/api\/peers\/([0-9a-f]{40})$/.exec(path);
    if (m && req.method === 'GET') return { status: 200, body: await this.peerDetails(m[1]!) };
    if (m && req.method === 'DELETE') {
      const mode = url.searchParams.get('mode') ?? 'leave';
      if (mode !== 'leave' && mode !== 'crash') throw new HttpError(400, `mode must be leave or crash, got ${JSON.stringify(mode)}`);
      const removed = await this.host.removePeer(m[1]!, mode);
      return { status: 200, body: { removed, mode } };
    }
    if (path === '/api/health' && req.method === 'GET') {
      const health = await this.host.health(url.searchParams.get('keys') !== 'false');
      return { status: 200, body: { ...health, deadWorkers: this.host.deadWorkers } };
    }
    if (path.startsWith('/api/peers/')) throw new HttpError(404, 'peer ids are 40 lowercase hex digits: DELETE /api/peers/<id>?mode=leave|crash');
    throw new HttpError(404, `no route for ${req.method} ${path || '/'}: see GET /, GET /api/peers, POST /api/peers, GET|DELETE /api/peers/<id>, GET /api/lookup, GET /api/events, GET /api/health`);
  }
}

/** Collapses a peer's 160 fingers into runs of equal entries, with addresses of live peers. */
export function fingerRuns(peer: PeerSnapshot, live: ReadonlyArray<{ id: string; addr: string }>): FingerRun[] {
  const addr = new Map(live.map((p) => [p.id, p.addr]));
  const runs: FingerRun[] = [];
  peer.fingers.forEach((f, i) => {
    if (f === null) return;
    const last = runs.at(-1);
    if (last && last.id === f && last.end === i - 1) last.end = i;
    else runs.push({ start: i, end: i, id: f, addr: addr.get(f) ?? null });
  });
  return runs;
}

function send(res: http.ServerResponse, status: number, body: unknown): void {
  const text = JSON.stringify(body);
  res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text) });
  res.end(text);
}

function readJson(req: http.IncomingMessage): Promise<unknown> {
  return new Promise((resolve, reject) => {
    let size = 0;
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => {
      size += c.length;
      if (size > MAX_BODY_BYTES) {
        reject(new HttpError(413, `body larger than ${MAX_BODY_BYTES} bytes`));
        req.destroy();
        return;
      }
      chunks.push(c);
    });
    req.on('end', () => {
      try {
        resolve(chunks.length ? JSON.parse(Buffer.concat(chunks).toString('utf8')) : null);
      } catch {
        reject(new HttpError(400, 'body is not valid JSON'));
      }
    });
    req.on('error', reject);
  });
}
