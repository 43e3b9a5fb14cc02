/**
 * The `chord` command line: the only layer that parses flags and prints. Each command returns its
 * exit code; errors are mapped here: usage 2, key not found 3, anything else 1.
 */
import { ErrorCode, RingwireError, describeError } from '../errors/errors.js';
import { UsageError } from './args.js';
import { delCommand, getCommand, lookupCommand, putCommand, ringCommand } from './commands/kv.js';
import { benchCommand } from './commands/bench.js';
import { clusterCommand } from './commands/cluster.js';
import { nodeCommand } from './commands/node.js';
import { registryCommand } from './commands/registry.js';
import { simCommand } from './commands/sim.js';
import { ExitCode, printError, printLine } from './output.js';

const HELP = `chord: a Chord distributed hash table

  chord node --port P [--host H] [--join H:P] [--id HEX] [--successors R] [--replicas K]
             [--stabilize-ms MS] [--no-route-cache] [--iterative] [--log-level L] [--metrics-port P]
                                                   run one peer (Ctrl-C leaves gracefully)
  chord registry --port P [--host H]              run a discovery registry
  chord cluster [--peers N] [--workers W] [--base-port P] [--registry-port R] [--admin-port A]
             [--successors R] [--replicas K] [--stabilize-ms MS] [--no-route-cache] [--iterative]
                                                   N peers over W worker threads + registry + admin API
  chord put KEY VALUE --via H:P [--json]           store a value through any peer
  chord get KEY --via H:P [--json]                 print a value (exit 3 when not found)
  chord del KEY --via H:P [--json]                 delete a key (exit 3 when not found)
  chord lookup KEY --via H:P [--json]              which peer owns KEY, and in how many hops
  chord ring --via H:P [--json]                    walk the ring along successors
  chord bench --via H:P[,H:P...] [--op lookup|get|put|mixed] [--concurrency C] [--duration S]
             [--keys K] [--value-size B] [--warmup S] [--threads T] [--no-route-cache] [--json]
                                                   load generator: checked ops, ops/s, latency, hops
  chord sim [--peers N] [--seed S] [--lookups L] [--keys K] [--crash-fraction F] [--churn-rate R]
            [--successors R] [--replicas K] [--stabilize-ms MS] [--latency-ms MS|MIN..MAX|exp:MEAN]
            [--op lookup|get] [--retries N] [--lookup-rate HZ] [--scenario FILE] [--json]
                                                   deterministic in-memory simulation (same seed, same result)

Every command that talks to a cluster takes its secret from CHORD_SECRET or --secret-file F, and
TLS files from --tls-cert F --tls-key F (servers) and --tls-ca F (to verify servers).
chord node also takes --max-connections N --hello-timeout-ms MS --frame-timeout-ms MS --max-in-flight N.

Exit codes: 0 success, 1 error, 2 usage error, 3 key not found.`;

const COMMANDS: Record<string, (argv: string[]) => Promise<number>> = {
  node: nodeCommand,
  put: putCommand,
  get: getCommand,
  del: delCommand,
  lookup: lookupCommand,
  ring: ringCommand,
  registry: registryCommand,
  cluster: clusterCommand,
  sim: simCommand,
  bench: benchCommand,
};

export async function main(argv: string[]): Promise<number> {
  const [command, ...rest] = argv;
  if (command === undefined || command === 'help' || command === '--help' || command === '-h') {
    printLine(HELP);
    return command === undefined ? ExitCode.USAGE : ExitCode.OK;
  }
  const run = COMMANDS[command];
  if (!run) {
    printError(`unknown command ${JSON.stringify(command)}: use one of ${Object.keys(COMMANDS).join(', ')} (see "chord help")`);
    return ExitCode.USAGE;
  }
  try {
    return await run(rest);
  } catch (err) {
    if (err instanceof UsageError) {
      printError(err.message);
      return ExitCode.USAGE;
    }
    if (err instanceof RingwireError && err.code === ErrorCode.NOT_FOUND) {
      printError(err.message);
      return ExitCode.NOT_FOUND;
    }
    printError(explain(err));
    return ExitCode.ERROR;
  }
}

/** Turns a failure into a sentence that says what to check. */
function explain(err: unknown): string {
  if (err instanceof RingwireError) {
    switch (err.code) {
      case ErrorCode.UNREACHABLE:
      case ErrorCode.CONNECTION_LOST:
        return `${err.message}: is it running there? check the address given to --via, --join or --registry`;
      case ErrorCode.TIMEOUT:
        return `${err.message}: the peer did not answer in time; it may be overloaded or the ring may still be stabilizing`;
      case ErrorCode.VERSION_MISMATCH:
        return `${err.message}: run the same ringwire version on every peer and client`;
      case ErrorCode.AUTH_FAILED:
        return `AUTH_FAILED: ${err.message}: give every peer, registry and client the same secret (CHORD_SECRET or --secret-file)`;
      default:
        return describeError(err);
    }
  }
  return describeError(err);
}

// `chord ring | head` closes our stdout early: that is the reader's choice, not an error.
process.stdout.on('error', (err: NodeJS.ErrnoException) => {
  if (err.code === 'EPIPE') process.exit(ExitCode.OK);
  throw err;
});

const code = await main(process.argv.slice(2));
process.exitCode = code;
// The process ends by itself once every socket, timer and worker is closed. If something still
// holds it, that is a leak: say so and exit non-zero rather than hang (the timer itself is unref'd).
setTimeout(() => {
  const handles = (process as unknown as { getActiveResourcesInfo?: () => string[] }).getActiveResourcesInfo?.() ?? [];
  printError(`still running 5 s after finishing (open: ${handles.join(', ') || 'unknown'}); exiting`);
  process.exit(code === ExitCode.OK ? ExitCode.ERROR : code);
}, 5000).unref();
