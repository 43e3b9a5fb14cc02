/**
 * `chord registry`: the discovery server in the foreground until SIGINT/SIGTERM.
 */
import { pinoLogger } from '../../log/pino-logger.js';
import { formatAddr } from '../../net/peer-server.js';
import { RegistryServer } from '../../registry/registry-server.js';
import { parseFlags, parseHost, parsePort, takePositionals } from '../args.js';
import { SECRET_FLAGS, loadSecret } from '../secret.js';
import { TLS_FLAGS, loadTls } from '../tls.js';
import { ExitCode, printJson } from '../output.js';
import { logLevelFrom } from './node.js';

const SPEC = {
  port: { type: 'string' as const },
  host: { type: 'string' as const },
  'log-level': { type: 'string' as const },
  ...SECRET_FLAGS,
  ...TLS_FLAGS,
};

export async function registryCommand(argv: string[]): Promise<number> {
  const { values, positionals } = parseFlags(argv, SPEC, 'registry');
  takePositionals('registry', positionals, []);
  const port = parsePort('port', values.port as string | undefined);
  const host = parseHost('host', values.host as string | undefined, '127.0.0.1');
  const log = pinoLogger({ level: logLevelFrom(values['log-level'] as string | undefined), bound: { component: 'registry' } });
  const secret = loadSecret(values['secret-file'] as string | undefined);
  const tls = loadTls(values, true);
  const registry = new RegistryServer({ log }, { secret, tls });
  const bound = await registry.listen(host, port);
  printJson({ event: 'ready', addr: formatAddr(host, bound) });
  return new Promise<number>((resolve) => {
    const stop = (): void => {
      registry.close().then(() => resolve(ExitCode.OK), () => resolve(ExitCode.ERROR));
    };
    process.once('SIGINT', stop);
    process.once('SIGTERM', stop);
  });
}
