/**
 * Flag parsing and validation for the CLI. Every failure is a UsageError whose message names the
 * flag, what was wrong and what is expected, so the user can fix the command line at once.
 */
import { parseArgs } from 'node:util';
import { idFromHex, type Id } from '../ring/index.js';

/** A bad command line: printed with a hint, exit code 2. */
export class UsageError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'UsageError';
  }
}

export type FlagSpec = Record<string, { type: 'string' | 'boolean'; short?: string; multiple?: boolean }>;

export interface Parsed {
  values: Record<string, string | boolean | undefined>;
  positionals: string[];
}

/** Parses `argv` against `spec`; unknown flags and missing values become UsageErrors. */
export function parseFlags(argv: string[], spec: FlagSpec, command: string): Parsed {
  try {
    const { values, positionals } = parseArgs({ args: argv, options: spec, allowPositionals: true, strict: true });
    return { values: values as Parsed['values'], positionals };
  } catch (err) {
    const msg = err instanceof Error ? err.message.replace(/\. To specify a positional argument.*$/s, '') : String(err);
    throw new UsageError(`${command}: ${msg} (run "chord help" for the flags of each command)`);
  }
}

/** A TCP port, 0..65535 (0 only where `allowZero`). */
export function parsePort(flag: string, value: string | undefined, allowZero = true): number {
  if (value === undefined) throw new UsageError(`--${flag} is required: give a TCP port number, e.g. --${flag} 4001`);
  const n = Number(value);
  if (!/^\d+$/.test(value) || !Number.isInteger(n) || n > 65535 || (!allowZero && n === 0)) {
    throw new UsageError(`--${flag} ${JSON.stringify(value)} is not a valid port: use an integer from ${allowZero ? 0 : 1} to 65535`);
  }
  return n;
}

/** A positive integer within [min, max]. */
export function parseCount(flag: string, value: string | undefined, min: number, max: number): number | undefined {
  if (value === undefined) return undefined;
  const n = Number(value);
  if (!/^\d+$/.test(value) || n < min || n > max) {
    throw new UsageError(`--${flag} ${JSON.stringify(value)} is out of range: use an integer from ${min} to ${max}`);
  }
  return n;
}

/** host:port with a port in 1..65535 ([v6]:port accepted). */
export function parseAddr(flag: string, value: string | undefined): string {
  if (value === undefined || value === '') throw new UsageError(`--${flag} is required: give a peer address as HOST:PORT, e.g. --${flag} 127.0.0.1:4001`);
  const m = /^(\[[0-9a-fA-F:.]+\]|[^\s:[\]]+):(\d+)$/.exec(value);
  const port = m ? Number(m[2]) : NaN;
  if (!m || !(port >= 1 && port <= 65535)) {
    throw new UsageError(`--${flag} ${JSON.stringify(value)} is not an address: use HOST:PORT with a port from 1 to 65535, e.g. 127.0.0.1:4001`);
  }
  return value;
}

/** A host name or IP literal for --host. */
export function parseHost(flag: string, value: string | undefined, fallback: string): string {
  if (value === undefined) return fallback;
  if (value === '' || /[\s/]/.test(value)) throw new UsageError(`--${flag} ${JSON.stringify(value)} is not a host: give a name or IP such as 127.0.0.1`);
  return value;
}

/** A 40-hex-digit id for --id. */
export function parseId(flag: string, value: string | undefined): Id | undefined {
  if (value === undefined) return undefined;
  try {
    return idFromHex(value);
  } catch {
    throw new UsageError(`--${flag} ${JSON.stringify(value)} is not an id: give exactly 40 hex digits`);
  }
}

/** Exactly `names.length` positional arguments, named in the error when missing. */
export function takePositionals(command: string, positionals: string[], names: string[]): string[] {
  if (positionals.length !== names.length) {
    const usage = `chord ${command} ${names.map((n) => n.toUpperCase()).join(' ')} --via HOST:PORT`;
    throw new UsageError(
      positionals.length < names.length
        ? `${command}: missing ${names.slice(positionals.length).map((n) => n.toUpperCase()).join(' and ')}; usage: ${usage}`
        : `${command}: too many arguments (${positionals.length}, expected ${names.length}); quote values with spaces; usage: ${usage}`,
    );
  }
  return positionals;
}
