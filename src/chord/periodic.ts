/**
 * Scheduling of the periodic maintenance steps on an injected clock. Each step has its own timer,
 * first fires one period after start, and is re-armed only once the run finished, so a slow step
 * (a peer timing out) never overlaps itself and never piles up runs. A failing run is logged and
 * the schedule goes on: one bad round must not stop the ring from repairing itself.
 */
import { describeError } from '../errors/errors.js';
import type { Logger } from '../log/logger.js';
import type { Clock, TimerHandle } from './clock.js';

/** One periodic step. */
export interface PeriodicStep {
  /** A fixed period, or a function read before each re-arm (a step that backs off when idle). */
  periodMs: number | (() => number);
  run: () => Promise<void>;
}

/** Timers for a fixed set of named steps; start/stop are idempotent. */
export class PeriodicSteps<Name extends string> {
  private readonly clock: Clock;
  private readonly log: Logger;
  private readonly timers = new Map<Name, TimerHandle>();
  private readonly runs = new Map<Name, number>();
  /** When each armed timer fires (clock ms), so expedite can tell whether it would be sooner. */
  private readonly due = new Map<Name, number>();
  private steps: Record<Name, PeriodicStep> | undefined;
  private active = false;

  /** Due times are rounded up to a multiple of this (ms of the clock); 1 or less: not rounded. */
  private readonly gridMs: number;

  constructor(components: { clock: Clock; log: Logger }, opts: { gridMs?: number } = {}) {
    this.clock = components.clock;
    this.log = components.log;
    this.gridMs = opts.gridMs ?? 1;
  }

  get running(): boolean {
    return this.active;
  }

  /** How many times the timer of `name` has fired since start (direct calls not counted). */
  rounds(name: Name): number {
    return this.runs.get(name) ?? 0;
  }

  /** Arms every step (no-op when already running). */
  start(steps: Record<Name, PeriodicStep>): void {
    if (this.active) return;
    this.active = true;
    this.steps = steps;
    for (const name of Object.keys(steps) as Name[]) this.arm(name, steps[name]);
  }

  /**
   * Brings the next run of `name` forward to one current period from now, when that is sooner
   * than its armed timer: a step that had backed off while the ring was quiet and must speed up
   * now. A run in flight is left alone (it re-arms with the current period when it ends).
   */
  expedite(name: Name): void {
    const handle = this.timers.get(name);
    const step = this.steps?.[name];
    if (!this.active || handle === undefined || step === undefined) return;
    if (this.delayOf(step) + this.clock.now() >= (this.due.get(name) ?? 0)) return;
    this.clock.clearTimeout(handle);
    this.timers.delete(name);
    this.arm(name, step);
  }

  /** Clears every timer; runs in flight finish but are not re-armed. */
  stop(): void {
    this.active = false;
    for (const handle of this.timers.values()) this.clock.clearTimeout(handle);
    this.timers.clear();
  }

  /**
   * The step's period, stretched to end on the grid: many peers' timers in one thread then fall
   * due together, and the thread wakes once for all of them instead of once for each.
   */
  private delayOf(step: PeriodicStep): number {
    const period = periodOf(step);
    if (this.gridMs <= 1) return period;
    const due = this.clock.now() + period;
    // Whole milliseconds: node keeps one timer list per distinct duration, and the system clock's
    // fractional time would otherwise make every timer's duration distinct.
    return Math.ceil(period + ((this.gridMs - (due % this.gridMs)) % this.gridMs));
  }

  private arm(name: Name, step: PeriodicStep): void {
    const period = this.delayOf(step);
    this.due.set(name, this.clock.now() + period);
    const handle = this.clock.setTimeout(() => {
      this.timers.delete(name);
      this.runs.set(name, (this.runs.get(name) ?? 0) + 1);
      step
        .run()
        .catch((err: unknown) => this.log.warn(`${name} failed`, { error: describeError(err) }))
        .finally(() => {
          if (this.active) this.arm(name, step);
        });
    }, period);
    this.timers.set(name, handle);
  }
}

function periodOf(step: PeriodicStep): number {
  return typeof step.periodMs === 'number' ? step.periodMs : step.periodMs();
}

/**
 * Shares one in-flight run per name: a step called while it already runs (a timer and a direct
 * call, or a leave handler asking for a stabilize) joins that run instead of racing it.
 */
export class SingleFlight<Name extends string> {
  private readonly inflight = new Map<Name, Promise<void>>();

  run(name: Name, fn: () => Promise<void>): Promise<void> {
    const running = this.inflight.get(name);
    if (running) return running;
    const p = fn().finally(() => this.inflight.delete(name));
    this.inflight.set(name, p);
    return p;
  }

  /** The run of `name` in flight (settled, never rejecting), or a resolved promise when idle. */
  idle(name: Name): Promise<void> {
    const running = this.inflight.get(name);
    return running ? running.then(() => undefined, () => undefined) : Promise.resolve();
  }
}
