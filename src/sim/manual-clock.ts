/**
 * A clock that moves only when told. Timers fire in (due time, creation order), so a test that
 * advances the clock gets the same interleaving on every run.
 *
 * Timers live in a binary heap (O(log n) per timer, cancelled ones dropped lazily when they reach
 * the top), so a simulated ring of tens of thousands of peers with a few timers each stays fast.
 * Between timers the clock lets promise continuations run (one macrotask turn drains every
 * microtask). By default that happens after every timer; with `batch` it happens once per distinct
 * due time, after every timer due then has fired: still deterministic (same order every run), and
 * several times faster when many timers share a millisecond, which is what the simulator wants.
 */
import type { Clock, TimerHandle } from '../chord/clock.js';

interface Timer {
  due: number;
  seq: number;
  fn: () => void;
  cancelled: boolean;
  fired: boolean;
}

/** Lets every pending promise continuation run (microtasks drain before a macrotask). */
export function flushMicrotasks(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve));
}

/** Options of a ManualClock. */
export interface ManualClockInit {
  /** Fire every timer due at the same instant before draining continuations. @default false */
  batch?: boolean;
}

export class ManualClock implements Clock {
  private time: number;
  private seq = 0;
  private readonly heap: Timer[] = [];
  private live = 0;
  private readonly batch: boolean;
  /** Timers fired so far: the simulator's count of events. */
  fired = 0;

  constructor(startMs = 0, init: ManualClockInit = {}) {
    this.time = startMs;
    this.batch = init.batch ?? false;
  }

  now(): number {
    return this.time;
  }

  setTimeout(fn: () => void, ms: number): TimerHandle {
    const timer: Timer = { due: this.time + Math.max(0, ms), seq: this.seq++, fn, cancelled: false, fired: false };
    this.push(timer);
    this.live++;
    return timer;
  }

  clearTimeout(handle: TimerHandle): void {
    const t = handle as Timer;
    if (t.cancelled || t.fired) return;
    t.cancelled = true;
    this.live--;
  }

  /** Number of timers still scheduled (a stopped component should leave none). */
  pending(): number {
    return this.live;
  }

  /** Due time of the earliest live timer, or undefined when none is scheduled. */
  nextDueTime(): number | undefined {
    this.dropCancelled();
    return this.heap[0]?.due;
  }

  /**
   * Moves time forward by `ms`, firing every timer that falls due on the way in order, and
   * draining promise continuations after each one (each instant, with `batch`) so async steps
   * complete before the next fires.
   */
  async advance(ms: number): Promise<void> {
    const target = this.time + ms;
    for (;;) {
      this.dropCancelled();
      const top = this.heap[0];
      if (!top || top.due > target) break;
      this.time = Math.max(this.time, top.due);
      if (this.batch) {
        const now = top.due;
        for (;;) {
          this.dropCancelled();
          const t = this.heap[0];
          if (!t || t.due !== now) break;
          this.fire(this.pop()!);
        }
      } else {
        this.fire(this.pop()!);
      }
      await flushMicrotasks();
    }
    this.time = target;
    await flushMicrotasks();
  }

  private fire(t: Timer): void {
    t.fired = true;
    this.live--;
    this.fired++;
    t.fn();
  }

  private dropCancelled(): void {
    while (this.heap.length > 0 && this.heap[0]!.cancelled) this.pop();
  }

  private static before(a: Timer, b: Timer): boolean {
    return a.due < b.due || (a.due === b.due && a.seq < b.seq);
  }

  private push(t: Timer): void {
    const h = this.heap;
    h.push(t);
    let i = h.length - 1;
    while (i > 0) {
      const parent = (i - 1) >> 1;
      if (!ManualClock.before(t, h[parent]!)) break;
      h[i] = h[parent]!;
      i = parent;
    }
    h[i] = t;
  }

  private pop(): Timer | undefined {
    const h = this.heap;
    const top = h[0];
    const last = h.pop();
    if (h.length === 0 || !last) return top;
    let i = 0;
    const n = h.length;
    for (;;) {
      const l = 2 * i + 1;
      if (l >= n) break;
      const r = l + 1;
      const c = r < n && ManualClock.before(h[r]!, h[l]!) ? r : l;
      if (!ManualClock.before(h[c]!, last)) break;
      h[i] = h[c]!;
      i = c;
    }
    h[i] = last;
    return top;
  }
}
