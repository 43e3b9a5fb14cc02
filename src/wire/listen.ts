/**
 * Binding a TCP listener, shared by the peer server and the registry so both report a taken port
 * or a bad host the same way, with what to do about it.
 */
import type net from 'node:net';
import { ErrorCode, RingwireError } from '../errors/errors.js';

/** Formats host and port as the `host:port` string used as an address (IPv6 in brackets). */
export function formatAddr(host: string, port: number): string {
  return host.includes(':') ? `[${host}]:${port}` : `${host}:${port}`;
}

/**
 * Starts `server` listening on host:port and resolves with the bound port (port 0 picks a free
 * one). Rejects with UNREACHABLE naming the problem: a port in use, or a host that is not local.
 */
export function listenOn(server: net.Server, host: string, port: number): Promise<number> {
  return new Promise((resolve, reject) => {
    const onError = (err: NodeJS.ErrnoException): void => {
      reject(
        new RingwireError(
          ErrorCode.UNREACHABLE,
          err.code === 'EADDRINUSE'
            ? `port ${port} on ${host} is already in use: pick another --port (or 0 for any free port)`
            : `cannot listen on ${formatAddr(host, port)}: ${err.message}`,
          { cause: err },
        ),
      );
    };
    server.once('error', onError);
    server.listen({ host, port }, () => {
      server.off('error', onError);
      const address = server.address();
      resolve(typeof address === 'object' && address !== null ? address.port : port);
    });
  });
}
