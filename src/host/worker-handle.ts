/**
 * The supervisor's side of one peer worker: sends commands, matches replies by sequence number,
 * and reports the worker's death (its peers then count as crashed; nothing is restarted silently).
 */
import { Worker } from 'node:worker_threads';
import { ErrorCode, RingwireError, isErrorCode } from '../errors/errors.js';
import type { PeerSnapshot, PeerSpec, WorkerCommand, WorkerReply } from './worker-protocol.js';

const WORKER_URL = new URL('../../workers/peer-worker.js', import.meta.url);

type Pending = { resolve: (r: WorkerReply & { ok: true }) => void; reject: (e: Error) => void };
type DistributiveOmit<T, K extends PropertyKey> = T extends unknown ? Omit<T, K> : never;

export class WorkerHandle {
  readonly index: number;
  private readonly worker: Worker;
  private readonly pending = new Map<number, Pending>();
  private seq = 0;
  private exited = false;
  /** Addresses of the peers this worker hosts. */
  readonly peers = new Set<string>();

  constructor(index: number, init: { logLevel: string; poolMaxConnections: number; onExit: (w: WorkerHandle, code: number) => void }) {
    this.index = index;
    this.worker = new Worker(WORKER_URL, { workerData: { index, logLevel: init.logLevel, poolMaxConnections: init.poolMaxConnections } });
    this.worker.on('message', (reply: WorkerReply) => {
      const p = this.pending.get(reply.seq);
      if (!p) return;
      this.pending.delete(reply.seq);
      if (reply.ok) p.resolve(reply);
      else p.reject(new RingwireError(reply.code && isErrorCode(reply.code) ? reply.code : ErrorCode.INTERNAL, reply.error));
    });
    this.worker.on('error', () => {
      /* reported through 'exit' below */
    });
    this.worker.on('exit', (code) => {
      this.exited = true;
      for (const p of this.pending.values()) p.reject(new RingwireError(ErrorCode.CLOSED, `worker ${index} exited with code ${code}`));
      this.pending.clear();
      init.onExit(this, code);
    });
  }

  get alive(): boolean {
    return !this.exited;
  }

  private send(cmd: DistributiveOmit<WorkerCommand, 'seq'>): Promise<WorkerReply & { ok: true }> {
    if (this.exited) return Promise.reject(new RingwireError(ErrorCode.CLOSED, `worker ${this.index} is not running`));
    const seq = ++this.seq;
    return new Promise((resolve, reject) => {
      this.pending.set(seq, { resolve, reject });
      this.worker.postMessage({ ...cmd, seq });
    });
  }

  async start(spec: PeerSpec): Promise<{ id: string; addr: string }> {
    const reply = await this.send({ op: 'start', spec });
    this.peers.add(reply.peer!.addr);
    return reply.peer!;
  }

  async remove(addr: string, mode: 'leave' | 'crash'): Promise<void> {
    await this.send({ op: mode, addr });
    this.peers.delete(addr);
  }

  async snapshot(withKeys: boolean): Promise<{ peers: PeerSnapshot[]; keys: Record<string, string[]> }> {
    const reply = await this.send({ op: 'snapshot', withKeys });
    return { peers: reply.peers ?? [], keys: reply.keys ?? {} };
  }

  /** Every peer leaves gracefully, then the thread ends. */
  async shutdown(): Promise<void> {
    if (this.exited) return;
    try {
      await this.send({ op: 'shutdown' });
    } finally {
      this.peers.clear();
      await this.worker.terminate();
    }
  }

  /** Ends the thread at once (tests simulate a dying worker with it). */
  async kill(): Promise<void> {
    await this.worker.terminate();
  }
}
