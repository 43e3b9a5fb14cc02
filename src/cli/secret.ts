/**
 * Where the CLI gets the cluster secret: `--secret-file F` (the file's contents, one trailing
 * newline ignored) or the CHORD_SECRET environment variable. Never a plain flag, which would
 * show in `ps` and shell history; never printed or logged (ClusterSecret prints as "[secret]").
 */
import { readFileSync } from 'node:fs';
import { ClusterSecret } from '../wire/index.js';
import { UsageError } from './args.js';

/** The flag every command that talks to a cluster accepts. */
export const SECRET_FLAGS = { 'secret-file': { type: 'string' as const } };

/** The environment variable read when no --secret-file is given. */
export const SECRET_ENV = 'CHORD_SECRET';

/**
 * The secret from `--secret-file` (which wins) or CHORD_SECRET; undefined when neither is set.
 * An unreadable or empty file, or an empty variable, is a UsageError saying how to fix it.
 */
export function loadSecret(secretFile: string | undefined, env: NodeJS.ProcessEnv = process.env): ClusterSecret | undefined {
  if (secretFile !== undefined) {
    let text: string;
    try {
      text = readFileSync(secretFile, 'utf8');
    } catch (err) {
      const why = (err as NodeJS.ErrnoException).code ?? (err as Error).message;
      throw new UsageError(`--secret-file ${JSON.stringify(secretFile)} cannot be read (${why}): give a readable file holding the cluster secret`);
    }
    const secret = text.replace(/\r?\n$/, '');
    if (secret.length === 0) throw new UsageError(`--secret-file ${JSON.stringify(secretFile)} is empty: put the cluster secret in it`);
    return new ClusterSecret(secret);
  }
  const fromEnv = env[SECRET_ENV];
  if (fromEnv === undefined) return undefined;
  if (fromEnv.length === 0) throw new UsageError(`${SECRET_ENV} is set but empty: set it to the cluster secret, or unset it to run without one`);
  return new ClusterSecret(fromEnv);
}
