/**
 * Fixtures for the registry tests over real TCP on 127.0.0.1: a registry on port 0, tiny stub
 * peers that answer `ping` with `pong` (what the registry checks before it accepts an address),
 * and raw registry connections that register and then do only what the test says.
 * Everything started here is closed by t.after.
 */
import net from 'node:net';
import type { TestContext } from 'node:test';
import type { Clock } from '../../src/chord/clock.js';
import { ErrorCode, RingwireError } from '../../src/errors/errors.js';
import { PROTOCOL_VERSION, expectReply, type PeerRef } from '../../src/protocol/messages.js';
import { peerIdForAddr } from '../../src/ring/index.js';
import { RegistryServer, type RegistryServerInit } from '../../src/registry/index.js';
import { Connection, serveConnection } from '../../src/wire/index.js';
import { seededRandom } from '../../src/sim/random.js';

export const HOST = '127.0.0.1';

/** A registry on 127.0.0.1 (port 0 unless given), closed after the test. */
export async function startRegistry(
  t: TestContext,
  init: RegistryServerInit = {},
  opts: { clock?: Clock; port?: number; seed?: number } = {},
): Promise<RegistryServer> {
  const registry = new RegistryServer({ clock: opts.clock, random: seededRandom(opts.seed ?? 1) }, init);
  t.after(() => registry.close());
  await registry.listen(HOST, opts.port ?? 0);
  return registry;
}

/** A stub peer: listens, answers ping with pong; `close()` makes its address dead. */
export interface StubPeer {
  readonly peer: PeerRef;
  readonly addr: string;
  close(): Promise<void>;
}

/** Starts a stub peer on port 0 whose id is derived from its address, as a real peer's is. */
export async function startStubPeer(t: TestContext): Promise<StubPeer> {
  const sockets = new Set<net.Socket>();
  let self: PeerRef | null = null;
  const server = net.createServer((socket) => {
    sockets.add(socket);
    socket.once('close', () => sockets.delete(socket));
    serveConnection(socket, {
      onHello: () => ({ type: 'helloAck', version: PROTOCOL_VERSION, peer: self }),
      onRequest: async (req) => {
        if (req.type === 'ping') return { type: 'pong' };
        throw new RingwireError(ErrorCode.UNKNOWN_MESSAGE, `stub peer does not handle ${req.type}`);
      },
    });
  });
  await new Promise<void>((resolve) => server.listen({ host: HOST, port: 0 }, resolve));
  const port = (server.address() as net.AddressInfo).port;
  const addr = `${HOST}:${port}`;
  self = { id: peerIdForAddr(addr), addr };
  let closed = false;
  const close = async (): Promise<void> => {
    if (closed) return;
    closed = true;
    for (const s of sockets) s.destroy();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  };
  t.after(close);
  return { peer: self, addr, close };
}

/** A registry connection driven by hand (no heartbeats unless the test pings). */
export async function rawConnection(t: TestContext, registryAddr: string): Promise<Connection> {
  const conn = await Connection.connect(registryAddr, { self: null, requestTimeoutMs: 2000 });
  t.after(() => conn.close());
  return conn;
}

/** Opens a raw connection and registers `peer` on it. */
export async function registerRaw(t: TestContext, registryAddr: string, peer: PeerRef): Promise<Connection> {
  const conn = await rawConnection(t, registryAddr);
  expectReply(await conn.request({ type: 'register', peer }), 'ack');
  return conn;
}

/** A port that was free a moment ago: nothing listens there (for "registry is down" cases). */
export async function deadAddr(): Promise<string> {
  const server = net.createServer();
  await new Promise<void>((resolve) => server.listen({ host: HOST, port: 0 }, resolve));
  const port = (server.address() as net.AddressInfo).port;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return `${HOST}:${port}`;
}

/** Sorted addresses, for order-free comparisons. */
export const addrsOf = (peers: PeerRef[]): string[] => peers.map((p) => p.addr).sort();
