/**
 * An in-memory network: peers register a handler under an address, and transports deliver
 * requests to handlers directly, on a manual clock. Crashing an address makes every later request
 * to it fail as unreachable, exactly as a refused TCP connection would; a "silent" address never
 * answers, so callers see timeouts. Deterministic for a given clock schedule and random seed.
 */
import type { Clock } from '../chord/clock.js';
import type { RequestHandler, RequestOptions, Transport } from '../chord/transport.js';
import { ErrorCode, RemoteError, RingwireError, isErrorCode } from '../errors/errors.js';
import type { Request, Response } from '../protocol/messages.js';

export interface MemoryNetworkInit {
  /** One-way delivery delay in ms for each message; a function draws one per message. @default 0 */
  latencyMs?: number | (() => number);
  /** Timeout applied when a request sets none. @default 1000 */
  defaultTimeoutMs?: number;
  /**
   * Transports also carry one-way messages (Transport.send), so peers route lookups recursively.
   * Off by default: the simulator's figures and the seeds searched so far use iterative routing.
   */
  oneWay?: boolean;
}

export const MEMORY_NETWORK_DEFAULTS = Object.freeze({
  latencyMs: 0, // deliver on the next microtask
  defaultTimeoutMs: 1000, // matches the TCP transport's default request timeout
});

export class MemoryNetwork {
  private readonly handlers = new Map<string, RequestHandler>();
  private readonly silent = new Set<string>();
  private readonly clock: Clock;
  private readonly latency: () => number;
  private readonly defaultTimeoutMs: number;
  private readonly oneWay: boolean;
  /** Requests delivered so far, by type: lets tests and the simulator count messages. */
  readonly sent = new Map<string, number>();

  constructor(components: { clock: Clock }, init: MemoryNetworkInit = {}) {
    this.clock = components.clock;
    const latency = init.latencyMs ?? MEMORY_NETWORK_DEFAULTS.latencyMs;
    this.latency = typeof latency === 'function' ? latency : () => latency;
    this.defaultTimeoutMs = init.defaultTimeoutMs ?? MEMORY_NETWORK_DEFAULTS.defaultTimeoutMs;
    this.oneWay = init.oneWay === true;
  }

  /** Serves `handler` at `addr` (replacing a crashed one at the same address, like a restart). */
  listen(addr: string, handler: RequestHandler): void {
    this.handlers.set(addr, handler);
    this.silent.delete(addr);
  }

  /** Removes `addr`: later requests fail at once as UNREACHABLE (a crash with the port closed). */
  crash(addr: string): void {
    this.handlers.delete(addr);
    this.silent.delete(addr);
  }

  /** Makes `addr` swallow requests without answering (a hung process): callers time out. */
  silence(addr: string): void {
    this.silent.add(addr);
  }

  isListening(addr: string): boolean {
    return this.handlers.has(addr) && !this.silent.has(addr);
  }

  addresses(): string[] {
    return [...this.handlers.keys()];
  }

  /** A transport whose requests travel over this network. */
  transport(): Transport {
    const request = (addr: string, req: Request, options?: RequestOptions): Promise<Response> => this.deliver(addr, req, options);
    if (!this.oneWay) return { request };
    // Every listening address counts as connected: trySend delivers as `send` does, without a promise.
    const trySend = (addr: string, req: Request): boolean => {
      if (!this.handlers.has(addr)) return false;
      void this.post(addr, req);
      return true;
    };
    return { request, send: (addr, req) => this.post(addr, req), trySend };
  }

  /**
   * A one-way message: refused at once (UNREACHABLE) when nobody listens at `addr`, as a refused
   * TCP connect would be; otherwise handed to the handler after one network delay, its answer
   * dropped. A silent address swallows it.
   */
  private post(addr: string, req: Request): Promise<void> {
    this.sent.set(req.type, (this.sent.get(req.type) ?? 0) + 1);
    if (!this.handlers.has(addr)) return Promise.reject(new RingwireError(ErrorCode.UNREACHABLE, `${addr} is not reachable`));
    this.after(() => {
      const handler = this.handlers.get(addr);
      if (!handler || this.silent.has(addr)) return;
      answerOf(handler, req).catch(() => undefined);
    });
    return Promise.resolve();
  }

  private deliver(addr: string, req: Request, options?: RequestOptions): Promise<Response> {
    this.sent.set(req.type, (this.sent.get(req.type) ?? 0) + 1);
    const timeoutMs = options?.timeoutMs ?? this.defaultTimeoutMs;
    return new Promise<Response>((resolve, reject) => {
      let settled = false;
      const timer = this.clock.setTimeout(() => {
        if (settled) return;
        settled = true;
        reject(new RingwireError(ErrorCode.TIMEOUT, `${req.type} to ${addr} timed out after ${timeoutMs} ms`));
      }, timeoutMs);
      const settle = (fn: () => void): void => {
        if (settled) return;
        settled = true;
        this.clock.clearTimeout(timer);
        fn();
      };
      const arrive = (): void => {
        const handler = this.handlers.get(addr);
        if (!handler) {
          settle(() => reject(new RingwireError(ErrorCode.UNREACHABLE, `${addr} is not reachable`)));
          return;
        }
        if (this.silent.has(addr)) return; // swallowed: the timer will fire
        answerOf(handler, req).then(
          (res) => this.after(() => settle(() => (res.type === 'error' ? reject(toRemote(res.code, res.message)) : resolve(res)))),
          (err: unknown) =>
            this.after(() =>
              settle(() =>
                reject(err instanceof RingwireError ? new RemoteError(err.code, err.message) : new RemoteError(ErrorCode.INTERNAL, String(err))),
              ),
            ),
        );
      };
      this.after(arrive);
    });
  }

  /** Runs `fn` after one network delay: a microtask at zero latency, a clock timer otherwise. */
  private after(fn: () => void): void {
    const delay = this.latency();
    if (delay <= 0) queueMicrotask(fn);
    else this.clock.setTimeout(fn, delay);
  }
}

function toRemote(code: string, message: string): RemoteError {
  return new RemoteError(isErrorCode(code) ? code : ErrorCode.INTERNAL, message);
}

/** A handler's answer as a promise, whether it answered at once, threw or returned one. */
function answerOf(handler: RequestHandler, req: Request): Promise<Response> {
  try {
    return Promise.resolve(handler(req));
  } catch (err) {
    return Promise.reject(err);
  }
}
