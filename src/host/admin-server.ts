/**
 * The host's admin HTTP API (JSON over node:http):
 *   GET    /api/peers                       every live peer: id, addr, worker, predecessor, successors, keys
 *   POST   /api/peers {"count": n}          adds n peers
 *   DELETE /api/peers/<id>?mode=leave|crash removes one peer
 *   GET    /api/health                      consistency against the true ring and replica coverage
 * Errors are `{"error": "..."}` with a 4xx/5xx status; a bad request never disturbs the cluster.
 */
import http from 'node:http';
import { ErrorCode, RingwireError, describeError } from '../errors/errors.js';
import { silentLogger, type Logger } from '../log/logger.js';
import type { ClusterHost } from './cluster-host.js';

const MAX_BODY_BYTES = 64 * 1024;
const MAX_ADD = 1024;

class HttpError extends Error {
  constructor(readonly status: number, message: string) {
    super(message);
  }
}

export class AdminServer {
  private readonly server: http.Server;
  private readonly host: ClusterHost;
  private readonly log: Logger;

  constructor(components: { host: ClusterHost; log?: Logger }) {
    this.host = components.host;
    this.log = components.log ?? silentLogger;
    this.server = http.createServer((req, res) => {
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
    this.server.closeAllConnections();
    return new Promise((resolve) => this.server.close(() => resolve()));
  }

  private async route(req: http.IncomingMessage): Promise<{ status: number; body: unknown }> {
    const url = new URL(req.url ?? '/', 'http://admin');
    const path = url.pathname.replace(/\/+$/, '');
    if (path === '/api/peers' && req.method === 'GET') {
      const { peers } = await this.host.snapshot(false);
      return {
        status: 200,
        body: peers.map((p) => ({ id: p.id, addr: p.addr, worker: p.worker, predecessor: p.predecessor, successors: p.successors, keys: p.keys })),
      };
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
    throw new HttpError(404, `no route for ${req.method} ${path || '/'}: see GET /api/peers, POST /api/peers, DELETE /api/peers/<id>, GET /api/health`);
  }
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
