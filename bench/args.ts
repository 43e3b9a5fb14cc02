/**
 * Flags of the bench scripts: node's parseArgs, except that an unknown flag or a missing value
 * ends the run with exit 2, the parser's message and the script's flags, instead of a stack trace.
 * Checking the values (numbers, choices) stays with each script, which knows what they mean.
 */
import { relative } from 'node:path';
import { parseArgs, type ParseArgsConfig } from 'node:util';

type Options = NonNullable<ParseArgsConfig['options']>;

/** The script's flags as a usage line, defaults shown as values: `[--peers 256] [--json]`. */
export function usageOf(script: string, options: Options): string {
  const flags = Object.entries(options).map(([name, o]) => (o.type === 'boolean' ? `[--${name}]` : `[--${name} ${typeof o.default === 'string' && o.default !== '' ? o.default : 'VALUE'}]`));
  return `usage: node ${script} ${flags.join(' ')}`;
}

/** parseArgs({ options }) of process.argv, or exit 2 naming what was wrong and the flags there are. */
export function parseFlags<T extends Options>(options: T): ReturnType<typeof parseArgs<{ options: T }>> {
  try {
    return parseArgs({ options });
  } catch (err) {
    const script = relative(process.cwd(), process.argv[1] ?? 'bench') || 'bench';
    process.stderr.write(`${(err as Error).message}\n${usageOf(script, options)}\n`);
    process.exit(2);
  }
}
