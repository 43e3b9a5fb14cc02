/**
 * `chord node`: one peer in the foreground until SIGINT/SIGTERM, which make it leave gracefully.
 */
import { parseLogLevel } from '../../log/logger.js';
import { pinoLogger } from '../../log/pino-logger.js';
import { PeerNode } from '../../node/peer-node.js';
import { formatAddr } from '../../net/peer-server.js';
import { describeError } from '../../errors/errors.js';
import { serveMetrics, type MetricsEndpoint } from '../../metrics/metrics-http.js';
import { renderMetrics } from '../../metrics/prometheus.js';
import { idToHex } from '../../ring/index.js';
import { UsageError, parseAddr, parseCount, parseFlags, parseHost, parseId, parsePort, takePositionals } from '../args.js';
import { SECRET_FLAGS, loadSecret } from '../secret.js';
import { TLS_FLAGS, loadTls } from '../tls.js';
import { ExitCode, printJson } from '../output.js';

const SPEC = {
  port: { type: 'string' as const },
  host: { type: 'string' as const },
  join: { type: 'string' as const },
  registry: { type: 'string' as const },
  id: { type: 'string' as const },
  successors: { type: 'string' as const },
  replicas: { type: 'string' as const },
  'stabilize-ms': { type: 'string' as const },
  'no-route-cache': { type: 'boolean' as const },
  iterative: { type: 'boolean' as const },
  'log-level': { type: 'string' as const },
  'metrics-port': { type: 'string' as const },
  'max-connections': { type: 'string' as const },
  'hello-timeout-ms': { type: 'string' as const },
  'frame-timeout-ms': { type: 'string' as const },
  'max-in-flight': { type: 'string' as const },
  ...SECRET_FLAGS,
  ...TLS_FLAGS,
};

/** Reads --log-level, then LOG_LEVEL, default info. */
export function logLevelFrom(value: string | undefined): ReturnType<typeof parseLogLevel> & string {
  const raw = value ?? process.env.LOG_LEVEL ?? 'info';
  const level = parseLogLevel(raw);
  if (!level) throw new UsageError(`--log-level ${JSON.stringify(raw)} is not a level: use debug, info, warn or error`);
  return level;
}

export async function nodeCommand(argv: string[]): Promise<number> {
  const { values, positionals } = parseFlags(argv, SPEC, 'node');
  takePositionals('node', positionals, []);
  const str = (k: keyof typeof SPEC): string | undefined => values[k] as string | undefined;
  const port = parsePort('port', str('port'));
  const host = parseHost('host', str('host'), '127.0.0.1');
  if (str('join') !== undefined && str('registry') !== undefined) {
    throw new UsageError('--join and --registry are alternatives: give one way to find the ring, not both');
  }
  const join = str('join') !== undefined ? parseAddr('join', str('join')) : undefined;
  const registry = str('registry') !== undefined ? parseAddr('registry', str('registry')) : undefined;
  const successors = parseCount('successors', str('successors'), 1, 64);
  const replicas = parseCount('replicas', str('replicas'), 1, 16);
  if (replicas !== undefined && replicas > (successors ?? 8) + 1) {
    throw new UsageError(`--replicas ${replicas} exceeds --successors + 1 (${(successors ?? 8) + 1}): replicas live on successors, raise --successors or lower --replicas`);
  }
  const stabilizeMs = parseCount('stabilize-ms', str('stabilize-ms'), 10, 600_000);
  const id = parseId('id', str('id'));
  const maxIncomingConnections = parseCount('max-connections', str('max-connections'), 1, 1_000_000);
  const helloTimeoutMs = parseCount('hello-timeout-ms', str('hello-timeout-ms'), 1, 3_600_000);
  const frameTimeoutMs = parseCount('frame-timeout-ms', str('frame-timeout-ms'), 1, 3_600_000);
  const maxInFlight = parseCount('max-in-flight', str('max-in-flight'), 1, 1_000_000);
  const secret = loadSecret(str('secret-file'));
  const tls = loadTls(values, true);
  const metricsPort = str('metrics-port') === undefined ? undefined : parsePort('metrics-port', str('metrics-port'));
  const log = pinoLogger({ level: logLevelFrom(str('log-level')), bound: { component: 'node' } });

  const node = await PeerNode.start(
    { log },
    {
      host, port, id, join, registry, successors, replicas, stabilizeMs, maxIncomingConnections, helloTimeoutMs, frameTimeoutMs, maxInFlight, secret, tls,
      routeCache: values['no-route-cache'] !== true,
      recursiveLookups: values.iterative !== true,
    },
  );
  let metrics: MetricsEndpoint | undefined;
  try {
    metrics = metricsPort === undefined ? undefined : await serveMetrics(host, metricsPort, () => renderMetrics([node.metrics()]));
  } catch (err) {
    await node.leave();
    throw new UsageError(`--metrics-port ${metricsPort}: cannot listen (${describeError(err)}); pick a free port`);
  }
  printJson({ event: 'ready', id: idToHex(node.self.id), addr: node.addr, ...(metrics ? { metrics: formatAddr(host, metrics.port) } : {}) });

  const peerLog = log.child({ peer: idToHex(node.self.id), addr: node.addr });
  return new Promise<number>((resolve) => {
    let stopping = false;
    const stop = (signal: string): void => {
      if (stopping) {
        peerLog.warn('second signal: exiting without finishing the leave', { signal });
        resolve(ExitCode.ERROR);
        return;
      }
      stopping = true;
      peerLog.info('leaving the ring', { signal });
      Promise.all([node.leave(), metrics?.close()]).then(
        () => resolve(ExitCode.OK),
        () => resolve(ExitCode.ERROR),
      );
    };
    process.on('SIGINT', () => stop('SIGINT'));
    process.on('SIGTERM', () => stop('SIGTERM'));
  });
}
