/**
 * The production Logger: pino, one JSON object per line (`{"level":"info","time":"…","msg":…,
 * …bound fields}`), or pino-pretty's coloured lines when a person is watching (stderr is a TTY).
 * Components get children carrying their `component` and `peer`; bound fields are merged here
 * rather than by nesting pino children, so a field bound twice (a peer's id at the node and again
 * in chord) appears once in each line, with the innermost value.
 */
import { pino, stdTimeFunctions, type Logger as Pino, type DestinationStream } from 'pino';
import PinoPretty from 'pino-pretty';
import type { LogFields, LogLevel, Logger } from './logger.js';

export interface PinoLoggerInit {
  /** Lowest level written. @default 'info' */
  level?: LogLevel;
  /** Fields in every line (e.g. component). */
  bound?: LogFields;
  /** Human-readable lines instead of JSON. @default stderr is a TTY */
  pretty?: boolean;
  /** Where lines go. @default stderr (file descriptor 2, written synchronously) */
  destination?: DestinationStream;
}

/** True when logs should be pretty by default: someone reads stderr in a terminal. */
export function stderrIsTty(): boolean {
  return process.stderr.isTTY === true;
}

/** A Logger writing through pino; see the module comment. */
export function pinoLogger(init: PinoLoggerInit = {}): Logger {
  const pretty = init.pretty ?? stderrIsTty();
  const destination = pretty
    ? PinoPretty({ destination: init.destination ?? 2, sync: true, colorize: init.destination === undefined, translateTime: 'HH:MM:ss.l' })
    : (init.destination ?? pino.destination({ dest: 2, sync: true }));
  const root = pino(
    {
      level: init.level ?? 'info',
      base: undefined, // no pid/hostname: every line already says which peer and component it is
      timestamp: stdTimeFunctions.isoTime,
      formatters: { level: (label) => ({ level: label }) },
    },
    destination,
  );
  return wrap(root, init.bound ?? {});
}

function wrap(root: Pino, bound: LogFields): Logger {
  const log = Object.keys(bound).length > 0 ? root.child(bound) : root;
  return {
    debug: (msg, fields) => (fields ? log.debug(fields, msg) : log.debug(msg)),
    info: (msg, fields) => (fields ? log.info(fields, msg) : log.info(msg)),
    warn: (msg, fields) => (fields ? log.warn(fields, msg) : log.warn(msg)),
    error: (msg, fields) => (fields ? log.error(fields, msg) : log.error(msg)),
    child: (fields) => wrap(root, { ...bound, ...fields }),
  };
}
