/**
 * `chord node`: one peer in the foreground until SIGINT/SIGTERM, which make it leave gracefully.
 */
import { jsonLogger, parseLogLevel } from '../../log/logger.js';
import { PeerNode } from '../../node/peer-node.js';
import { idToHex } from '../../ring/index.js';
import { UsageError, parseAddr, parseCount, parseFlags, parseHost, parseId, parsePort, takePositionals } from '../args.js';
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
  'log-level': { type: 'string' as const },
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
  const log = jsonLogger((line) => process.stderr.write(line), logLevelFrom(str('log-level')));

  const node = await PeerNode.start({ log }, { host, port, id, join, registry, successors, replicas, stabilizeMs, routeCache: values['no-route-cache'] !== true });
  printJson({ event: 'ready', id: idToHex(node.self.id), addr: node.addr });

  return new Promise<number>((resolve) => {
    let stopping = false;
    const stop = (signal: string): void => {
      if (stopping) {
        log.warn('second signal: exiting without finishing the leave', { signal });
        resolve(ExitCode.ERROR);
        return;
      }
      stopping = true;
      log.info('leaving the ring', { signal });
      node.leave().then(
        () => resolve(ExitCode.OK),
        () => resolve(ExitCode.ERROR),
      );
    };
    process.on('SIGINT', () => stop('SIGINT'));
    process.on('SIGTERM', () => stop('SIGTERM'));
  });
}
