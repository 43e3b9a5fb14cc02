/**
 * The logging contract. Components receive a Logger and never write to the console themselves, so
 * the core stays quiet in tests and the host decides where lines go (stderr, JSON, nowhere).
 */
export type LogLevel = 'debug' | 'info' | 'warn' | 'error';

export type LogFields = Record<string, unknown>;

/** A logger bound to a component (and usually a peer id), carried in every line it writes. */
export interface Logger {
  debug(msg: string, fields?: LogFields): void;
  info(msg: string, fields?: LogFields): void;
  warn(msg: string, fields?: LogFields): void;
  error(msg: string, fields?: LogFields): void;
  /** A logger for a sub-component: same sink, extra bound fields. */
  child(fields: LogFields): Logger;
}

const LEVEL_RANK: Record<LogLevel, number> = { debug: 10, info: 20, warn: 30, error: 40 };

/** Parses a level name (from --log-level / LOG_LEVEL); undefined when it is not one. */
export function parseLogLevel(value: string): LogLevel | undefined {
  return value in LEVEL_RANK ? (value as LogLevel) : undefined;
}

/** A logger that drops everything: the default for library use and tests. */
export const silentLogger: Logger = {
  debug() {},
  info() {},
  warn() {},
  error() {},
  child() {
    return silentLogger;
  },
};

/**
 * A logger writing one JSON object per line (`{"level","time","msg",...fields}`) to `write`,
 * dropping lines below `level`.
 */
export function jsonLogger(write: (line: string) => void, level: LogLevel = 'info', bound: LogFields = {}): Logger {
  const min = LEVEL_RANK[level];
  const emit = (lvl: LogLevel, msg: string, fields?: LogFields): void => {
    if (LEVEL_RANK[lvl] < min) return;
    let line: string;
    try {
      line = JSON.stringify({ level: lvl, time: new Date().toISOString(), msg, ...bound, ...fields });
    } catch {
      line = JSON.stringify({ level: lvl, time: new Date().toISOString(), msg, ...bound });
    }
    write(line + '\n');
  };
  return {
    debug: (m, f) => emit('debug', m, f),
    info: (m, f) => emit('info', m, f),
    warn: (m, f) => emit('warn', m, f),
    error: (m, f) => emit('error', m, f),
    child: (fields) => jsonLogger(write, level, { ...bound, ...fields }),
  };
}
