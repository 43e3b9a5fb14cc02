/**
 * The wire baseline's listener: a bare TCP server that speaks only length-prefixed frames (no
 * Chord, no protobuf). A request frame carries how many more forwards it needs; with forwards
 * left the relay passes it to one of its "fingers" (relay i + 2^k, k random) over a persistent connection and, when the
 * answer comes back, passes the answer back to whoever asked (a hop-by-hop chain, answers
 * returning along it); with none left it answers at once. Each message is one small frame
 * written on its own, as a naive relay would.
 *
 * Payload layout: [kind u8: 0 request, 1 answer, 2 failed][reqId u32 BE][forwards u8][padding].
 * Relays of one worker thread share their outgoing connections (one per target), as the host's
 * peers share one pool per worker, so N relays stay within the process's descriptor limit.
 */
import net from 'node:net';
import { FrameDecoder, encodeFrame } from '../../src/wire/frame.js';

export const KIND_REQUEST = 0;
export const KIND_ANSWER = 1;
/** A forward failed (its connection closed): the chain answers with this instead of hanging. */
export const KIND_FAILED = 2;
/** Bytes of padding after the header: about the size of a protobuf get request envelope. */
export const PAD_BYTES = 40;
export const HEADER_BYTES = 6;

/** A request payload with `forwards` hops still to go. */
export function requestPayload(reqId: number, forwards: number): Buffer {
  const b = Buffer.alloc(HEADER_BYTES + PAD_BYTES);
  b[0] = KIND_REQUEST;
  b.writeUInt32BE(reqId >>> 0, 1);
  b[5] = forwards;
  return b;
}

/**
 * A framed connection to another relay (or, on the client side, to an entry relay): requests by
 * id, answers matched back to their callbacks.
 */
export class FrameLink {
  private readonly socket: net.Socket;
  private readonly decoder = new FrameDecoder();
  /** Answer callbacks by request id; called with null when the connection fails. */
  private readonly pending = new Map<number, (answer: Buffer | null) => void>();
  private closed = false;
  private nextId = 1;
  readonly ready: Promise<void>;

  constructor(host: string, port: number) {
    this.socket = net.connect({ host, port, noDelay: true });
    this.ready = new Promise((resolve, reject) => {
      this.socket.once('connect', () => resolve());
      this.socket.once('error', reject);
    });
    this.socket.on('error', () => undefined);
    this.socket.on('close', () => {
      this.closed = true;
      const cbs = [...this.pending.values()];
      this.pending.clear();
      for (const cb of cbs) cb(null);
    });
    this.socket.on('data', (chunk: Buffer) => {
      let frames: Buffer[];
      try {
        frames = this.decoder.push(chunk);
      } catch {
        this.socket.destroy();
        return;
      }
      for (const f of frames) {
        const id = f.readUInt32BE(1);
        const cb = this.pending.get(id);
        if (cb) {
          this.pending.delete(id);
          cb(f);
        }
      }
    });
  }

  /** Sends a request needing `forwards` more hops; `cb` gets the answer frame, or null on failure. */
  send(forwards: number, cb: (answer: Buffer | null) => void): void {
    if (this.closed) {
      cb(null);
      return;
    }
    const id = this.nextId;
    this.nextId = (this.nextId + 1) >>> 0 || 1;
    this.pending.set(id, cb);
    this.socket.write(encodeFrame(requestPayload(id, forwards)));
  }

  get isClosed(): boolean {
    return this.closed;
  }

  close(): void {
    this.socket.destroy();
  }
}

/** One listener of the baseline. */
export class Relay {
  private server: net.Server | undefined;
  private peers: Array<{ host: string; port: number }> = [];
  /** Outgoing connections by target index, shared by the relays of one worker. */
  private readonly links: Map<number, FrameLink>;
  private readonly accepted = new Set<net.Socket>();
  /** This relay's index in `peers`, so it never forwards to itself. */
  private selfIndex = -1;

  constructor(sharedLinks: Map<number, FrameLink> = new Map()) {
    this.links = sharedLinks;
  }

  async listen(host: string): Promise<number> {
    const server = net.createServer({ noDelay: true }, (socket) => this.onConnection(socket));
    this.server = server;
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(0, host, () => resolve());
    });
    return (server.address() as net.AddressInfo).port;
  }

  /** Every relay's address, and which one this is. */
  setPeers(peers: Array<{ host: string; port: number }>, selfIndex: number): void {
    this.peers = peers;
    this.selfIndex = selfIndex;
  }

  private link(i: number): FrameLink {
    let l = this.links.get(i);
    if (!l || l.isClosed) {
      const p = this.peers[i]!;
      l = new FrameLink(p.host, p.port);
      this.links.set(i, l);
    }
    return l;
  }

  private onConnection(socket: net.Socket): void {
    this.accepted.add(socket);
    const decoder = new FrameDecoder();
    socket.on('error', () => undefined);
    socket.on('close', () => this.accepted.delete(socket));
    socket.on('data', (chunk: Buffer) => {
      let frames: Buffer[];
      try {
        frames = decoder.push(chunk);
      } catch {
        socket.destroy();
        return;
      }
      for (const f of frames) this.onRequest(socket, f);
    });
  }

  private onRequest(from: net.Socket, req: Buffer): void {
    const forwards = req[5]!;
    if (forwards === 0 || this.peers.length < 2) {
      const answer = Buffer.from(req); // the frame payload may share its chunk; answer with a copy
      answer[0] = KIND_ANSWER;
      from.write(encodeFrame(answer));
      return;
    }
    // Like a finger table: relay i forwards only to i + 2^k, so each relay keeps about log2 N
    // connections (as a Chord peer does), not N, whatever the load.
    const n = this.peers.length;
    const k = Math.floor(Math.random() * Math.ceil(Math.log2(n)));
    const next = (this.selfIndex + Math.min(2 ** k, n - 1)) % n;
    const reqId = req.readUInt32BE(1);
    this.link(next).send(forwards - 1, (answer) => {
      const back = answer ? Buffer.from(answer) : Buffer.from(req);
      if (!answer) back[0] = KIND_FAILED;
      back.writeUInt32BE(reqId, 1);
      if (!from.destroyed) from.write(encodeFrame(back));
    });
  }

  async close(): Promise<void> {
    for (const l of this.links.values()) l.close();
    for (const s of this.accepted) s.destroy();
    await new Promise<void>((resolve) => (this.server ? this.server.close(() => resolve()) : resolve()));
  }
}
