/**
 * Server-sent events for the ring view: every subscriber gets the live membership (each peer's id,
 * address, worker, predecessor, successor list and key count) at once, then again whenever it
 * changes. One poller serves all subscribers and runs only while someone listens, so an admin
 * server nobody watches costs nothing.
 */
import type http from 'node:http';
import { describeError } from '../errors/errors.js';
import type { Logger } from '../log/logger.js';
import type { PeerSnapshot } from './worker-protocol.js';

/** The per-peer fields the ring overview needs (fingers are fetched per selected peer). */
export type PeerSummary = Pick<PeerSnapshot, 'id' | 'addr' | 'worker' | 'predecessor' | 'successors' | 'keys'>;

export function summarize(p: PeerSnapshot): PeerSummary {
  return { id: p.id, addr: p.addr, worker: p.worker, predecessor: p.predecessor, successors: p.successors, keys: p.keys };
}

export class RingEvents {
  private readonly clients = new Set<http.ServerResponse>();
  private readonly poll: () => Promise<PeerSummary[]>;
  private readonly intervalMs: number;
  private readonly log: Logger;
  private timer: ReturnType<typeof setTimeout> | undefined;
  private last = '';
  private closed = false;
  private polling = false;

  constructor(components: { poll: () => Promise<PeerSummary[]>; log: Logger }, init: { intervalMs: number }) {
    this.poll = components.poll;
    this.log = components.log;
    this.intervalMs = init.intervalMs;
  }

  /** Turns `res` into an event stream; it ends when the client goes away or close() is called. */
  subscribe(req: http.IncomingMessage, res: http.ServerResponse): void {
    res.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-cache', connection: 'keep-alive' });
    res.write(`retry: ${this.intervalMs}\n\n`);
    this.clients.add(res);
    req.on('close', () => this.clients.delete(res));
    // A new subscriber must get the current state even when nothing changed since the last event.
    if (this.last) res.write(this.last);
    if (!this.timer && !this.polling) void this.tick();
  }

  close(): void {
    this.closed = true;
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    for (const c of this.clients) c.end();
    this.clients.clear();
  }

  /** Polls, sends when changed, and re-arms after the poll finished (a slow poll never overlaps). */
  private async tick(): Promise<void> {
    this.timer = undefined;
    if (this.closed || this.clients.size === 0 || this.polling) return;
    this.polling = true;
    try {
      const peers = await this.poll();
      const event = `event: peers\ndata: ${JSON.stringify(peers)}\n\n`;
      if (event !== this.last) {
        this.last = event;
        for (const c of this.clients) c.write(event);
      }
    } catch (err) {
      this.log.warn('ring view poll failed', { err: describeError(err) });
    } finally {
      this.polling = false;
    }
    if (!this.closed && this.clients.size > 0) this.timer = setTimeout(() => void this.tick(), this.intervalMs);
  }
}
