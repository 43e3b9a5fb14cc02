/**
 * `chord cluster`: the main job. An embedded registry and N peers over W worker threads in this
 * process, an admin HTTP API, and a ready line once the ring is consistent. SIGINT/SIGTERM make
 * every peer leave gracefully, then the process exits 0.
 */
import { pinoLogger } from '../../log/pino-logger.js';
import { AdminServer } from '../../host/admin-server.js';
import { CLUSTER_DEFAULTS, ClusterHost } from '../../host/cluster-host.js';
import { formatAddr } from '../../net/peer-server.js';
import { UsageError, parseCount, parseFlags, parseHost, parsePort, takePositionals } from '../args.js';
import { SECRET_FLAGS, loadSecret } from '../secret.js';
import { TLS_FLAGS, loadTls } from '../tls.js';
import { ExitCode, printJson } from '../output.js';
import { logLevelFrom } from './node.js';

export const ADMIN_DEFAULT_PORT = 3999;

const SPEC = {
  peers: { type: 'string' as const },
  workers: { type: 'string' as const },
  host: { type: 'string' as const },
  'base-port': { type: 'string' as const },
  'registry-port': { type: 'string' as const },
  'admin-port': { type: 'string' as const },
  successors: { type: 'string' as const },
  replicas: { type: 'string' as const },
  'stabilize-ms': { type: 'string' as const },
  'no-route-cache': { type: 'boolean' as const },
  iterative: { type: 'boolean' as const },
  'log-level': { type: 'string' as const },
  ...SECRET_FLAGS,
  ...TLS_FLAGS,
};

export async function clusterCommand(argv: string[]): Promise<number> {
  const { values, positionals } = parseFlags(argv, SPEC, 'cluster');
  takePositionals('cluster', positionals, []);
  const str = (k: keyof typeof SPEC): string | undefined => values[k] as string | undefined;
  const peers = parseCount('peers', str('peers'), 1, 4096) ?? CLUSTER_DEFAULTS.peers;
  const workers = parseCount('workers', str('workers'), 1, 64);
  const host = parseHost('host', str('host'), CLUSTER_DEFAULTS.host);
  const basePort = str('base-port') === undefined ? CLUSTER_DEFAULTS.basePort : parsePort('base-port', str('base-port'));
  if (basePort !== 0 && basePort + peers - 1 > 65535) {
    throw new UsageError(`--base-port ${basePort} leaves no room for ${peers} peers (ports up to ${basePort + peers - 1}): lower --base-port or use 0 for OS-assigned ports`);
  }
  const registryPort = str('registry-port') === undefined ? CLUSTER_DEFAULTS.registryPort : parsePort('registry-port', str('registry-port'));
  const adminPort = str('admin-port') === undefined ? ADMIN_DEFAULT_PORT : parsePort('admin-port', str('admin-port'));
  const successors = parseCount('successors', str('successors'), 1, 64);
  const replicas = parseCount('replicas', str('replicas'), 1, 16);
  const stabilizeMs = parseCount('stabilize-ms', str('stabilize-ms'), 10, 600_000);
  const logLevel = logLevelFrom(str('log-level') ?? process.env.LOG_LEVEL ?? CLUSTER_DEFAULTS.logLevel);
  const log = pinoLogger({ level: logLevel, bound: { component: 'host' } });

  const secret = loadSecret(str('secret-file'));
  const tls = loadTls(values, true);
  const cluster = new ClusterHost(
    { log, secret, tls },
    { peers, workers, host, basePort, registryPort, successors, replicas, stabilizeMs, logLevel, routeCache: values['no-route-cache'] !== true, recursiveLookups: values.iterative !== true },
  );
  const admin = new AdminServer({ host: cluster, log });
  let stopping: Promise<number> | undefined;
  const stop = (): Promise<number> =>
    (stopping ??= (async () => {
      await admin.close();
      await cluster.shutdown();
      return ExitCode.OK;
    })());

  return new Promise<number>((resolve, reject) => {
    const onSignal = (signal: string): void => {
      log.info('shutting down: every peer leaves', { signal });
      stop().then(resolve, reject);
    };
    process.on('SIGINT', onSignal);
    process.on('SIGTERM', onSignal);
    (async () => {
      const adminBound = await admin.listen(host, adminPort);
      await cluster.start();
      await cluster.waitConsistent();
      const first = cluster.list()[0]!;
      printJson({ event: 'ready', peers: cluster.list().length, registry: cluster.registryAddress, admin: formatAddr(host, adminBound) });
      process.stderr.write(
        `ringwire cluster of ${cluster.list().length} peers is up. Try, in another terminal:\n` +
          `  node dist/cli.js put hello world --via ${first.addr}\n` +
          `  node dist/cli.js get hello --via ${cluster.list().at(-1)!.addr}\n` +
          `  curl -s http://${formatAddr(host, adminBound)}/api/health\n` +
          `Ring view: open http://${formatAddr(host, adminBound)}/ in a browser (metrics: /metrics).\n` +
          `Ctrl-C makes every peer leave and stops the cluster.\n`,
      );
    })().catch(async (err: unknown) => {
      await stop().catch(() => undefined);
      reject(err);
    });
  });
}
