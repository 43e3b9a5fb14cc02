/**
 * Test fixtures for src/wire over real TCP on 127.0.0.1: a server running serveConnection, and a
 * raw client that speaks frames by hand (to send what a well-behaved Connection never would).
 * Every fixture registers its cleanup with `t.after`.
 */
import type { TestContext } from 'node:test';
import { createServer, connect as netConnect } from 'node:net';
import type { Server, Socket } from 'node:net';
import { ErrorCode, RingwireError } from '../../src/errors/errors.js';
import { PROTOCOL_VERSION } from '../../src/protocol/messages.js';
import type { Message, PeerRef, Request, Response } from '../../src/protocol/messages.js';
import { peerIdForAddr } from '../../src/ring/index.js';
import { FrameDecoder, decodeMessage, encodeFrame, encodeMessage, serveConnection } from '../../src/wire/index.js';
import type { ServeInit, ServedConnection } from '../../src/wire/index.js';
import { within } from './eventually.js';

export interface TestServer {
  addr: string;
  port: number;
  peer: PeerRef;
  /** Every served connection, in accept order. */
  served: ServedConnection[];
  /** Every accepted socket still open. */
  sockets: Set<Socket>;
  /** Destroys every accepted socket (the peer "drops" its connections). */
  dropAll(): void;
  close(): Promise<void>;
}

/** A default handler: ping -> pong, anything else -> UNKNOWN_MESSAGE. */
export async function pingOnly(req: Request): Promise<Response> {
  if (req.type === 'ping') return { type: 'pong' };
  throw new RingwireError(ErrorCode.UNKNOWN_MESSAGE, `no handler for ${req.type}`);
}

/** Starts a server on 127.0.0.1 (port 0 unless given) serving `init`; closed after the test. */
export async function startServer(t: TestContext, init: Partial<ServeInit> = {}, port = 0): Promise<TestServer> {
  const sockets = new Set<Socket>();
  const served: ServedConnection[] = [];
  let peer: PeerRef | null = null;
  const server: Server = createServer((socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
    served.push(
      serveConnection(socket, {
        onHello: () => ({ type: 'helloAck', version: PROTOCOL_VERSION, peer }),
        onRequest: pingOnly,
        ...init,
      }),
    );
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, '127.0.0.1', () => resolve());
  });
  const address = server.address();
  if (address === null || typeof address === 'string') throw new Error('no TCP address');
  const addr = `127.0.0.1:${address.port}`;
  peer = { id: peerIdForAddr(addr), addr };
  const dropAll = (): void => {
    for (const s of sockets) s.destroy();
  };
  let closing: Promise<void> | null = null;
  const close = (): Promise<void> => {
    closing ??= new Promise<void>((resolve) => {
      dropAll();
      server.close(() => resolve());
    });
    return closing;
  };
  t.after(close);
  return { addr, port: address.port, peer, served, sockets, dropAll, close };
}

/** A port nobody listens on right now (bound then released), for refused connects. */
export async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
  const address = server.address();
  await new Promise<void>((resolve) => server.close(() => resolve()));
  if (address === null || typeof address === 'string') throw new Error('no TCP address');
  return address.port;
}

export interface RawClient {
  socket: Socket;
  /** Sends one framed message. */
  send(reqId: number, msg: Message): void;
  /** Sends raw bytes, resolving once they are handed to the kernel. */
  write(bytes: Uint8Array): Promise<void>;
  /** The next message from the server (rejects after 2 s, or if the socket closes first). */
  next(): Promise<{ reqId: number; msg: Message }>;
  /** Resolves when the server closed the socket. */
  closed: Promise<void>;
  /** Data chunks received so far (to observe write coalescing). */
  chunks: number;
}

/** Connects a hand-driven client to `addr`; destroyed after the test. */
export async function rawClient(t: TestContext, addr: string): Promise<RawClient> {
  const [host, port] = [addr.slice(0, addr.lastIndexOf(':')), Number(addr.slice(addr.lastIndexOf(':') + 1))];
  const socket = netConnect({ host, port });
  socket.setNoDelay(true);
  t.after(() => {
    socket.destroy();
  });
  await new Promise<void>((resolve, reject) => {
    socket.once('connect', resolve);
    socket.once('error', reject);
  });
  socket.on('error', () => {});
  const decoder = new FrameDecoder({});
  const inbox: Array<{ reqId: number; msg: Message }> = [];
  const waiters: Array<(m: { reqId: number; msg: Message } | null) => void> = [];
  const client: RawClient = {
    socket,
    chunks: 0,
    send: (reqId, msg) => {
      socket.write(encodeFrame(encodeMessage(reqId, msg)));
    },
    write: (bytes) => new Promise<void>((resolve, reject) => socket.write(bytes, (err) => (err ? reject(err) : resolve()))),
    next: () => {
      const m = inbox.shift();
      if (m !== undefined) return Promise.resolve(m);
      if (socket.destroyed) return Promise.reject(new Error('socket closed'));
      return within(
        new Promise((resolve, reject) => waiters.push((x) => (x === null ? reject(new Error('socket closed')) : resolve(x)))),
        2000,
        'next message',
      );
    },
    closed: new Promise<void>((resolve) => socket.once('close', () => resolve())),
  };
  socket.on('data', (chunk: Buffer) => {
    client.chunks++;
    for (const frame of decoder.push(chunk)) {
      const m = decodeMessage(frame);
      const w = waiters.shift();
      if (w !== undefined) w(m);
      else inbox.push(m);
    }
  });
  socket.once('close', () => {
    for (const w of waiters.splice(0)) w(null);
  });
  return client;
}

/** A raw client that has completed the hello (so requests are accepted). */
export async function helloedClient(t: TestContext, addr: string): Promise<RawClient> {
  const c = await rawClient(t, addr);
  c.send(0, { type: 'hello', version: PROTOCOL_VERSION, peer: null });
  const ack = await c.next();
  if (ack.msg.type !== 'helloAck') throw new Error(`expected helloAck, got ${ack.msg.type}`);
  return c;
}

/** A promise with its resolve exposed (to hold a handler's answer until the test releases it). */
export function deferred<T>(): { promise: Promise<T>; resolve(v: T): void; reject(e: unknown): void } {
  let resolve!: (v: T) => void;
  let reject!: (e: unknown) => void;
  const promise = new Promise<T>((res, rej) => {
    resolve = res;
    reject = rej;
  });
  return { promise, resolve, reject };
}
