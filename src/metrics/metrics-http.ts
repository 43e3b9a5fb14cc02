/**
 * A minimal HTTP endpoint for Prometheus: `GET /metrics` answers with the text `render` produces;
 * anything else is a 404 that names the one route. Used by `chord node --metrics-port`; the
 * cluster host serves /metrics on its admin server instead.
 */
import http from 'node:http';
import { METRICS_CONTENT_TYPE } from './prometheus.js';

export interface MetricsEndpoint {
  /** The bound port (useful with port 0). */
  port: number;
  close(): Promise<void>;
}

export function serveMetrics(host: string, port: number, render: () => Promise<string>): Promise<MetricsEndpoint> {
  const server = http.createServer((req, res) => {
    const path = new URL(req.url ?? '/', 'http://metrics').pathname;
    if (req.method !== 'GET' || path !== '/metrics') {
      res.writeHead(404, { 'content-type': 'text/plain' });
      res.end(`no route for ${req.method} ${path}: metrics are at GET /metrics\n`);
      return;
    }
    render().then(
      (text) => {
        res.writeHead(200, { 'content-type': METRICS_CONTENT_TYPE, 'content-length': Buffer.byteLength(text) });
        res.end(text);
      },
      (err: unknown) => {
        res.writeHead(500, { 'content-type': 'text/plain' });
        res.end(`metrics failed: ${err instanceof Error ? err.message : String(err)}\n`);
      },
    );
  });
  server.keepAliveTimeout = 1000;
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen({ host, port }, () => {
      server.off('error', reject);
      const a = server.address();
      resolve({
        port: typeof a === 'object' && a ? a.port : port,
        close: () => {
          server.closeAllConnections();
          return new Promise((r) => server.close(() => r()));
        },
      });
    });
  });
}
