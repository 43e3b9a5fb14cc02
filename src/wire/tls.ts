/**
 * Optional TLS on the wire: encryption (and server authentication) for every connection, below the
 * framing. A server with `cert` and `key` accepts only TLS; a client with a TlsConfig speaks only
 * TLS and verifies the server's certificate against `ca` (the system's CAs when unset), including
 * the host name or IP address it dialled. Authentication of cluster members stays the cluster
 * secret's job (wire/auth.ts), so servers do not ask clients for certificates.
 */
import net from 'node:net';
import tls from 'node:tls';
import { ErrorCode, RingwireError } from '../errors/errors.js';

/** PEM bytes, as read from --tls-cert, --tls-key and --tls-ca. */
export interface TlsConfig {
  /** This side's certificate chain (servers need it). */
  cert?: Uint8Array;
  /** This side's private key (servers need it). */
  key?: Uint8Array;
  /** The CA that signed the servers' certificates; unset: the system's CAs. */
  ca?: Uint8Array;
}

/** A TCP socket to host:port, or a TLS one when `config` is set; `readyEvent` fires once it can carry frames. */
export function dial(host: string, port: number, config: TlsConfig | undefined): { socket: net.Socket; readyEvent: 'connect' | 'secureConnect' } {
  if (config === undefined) return { socket: net.connect({ host, port }), readyEvent: 'connect' };
  const socket = tls.connect({
    host,
    port,
    ...(config.ca ? { ca: Buffer.from(config.ca) } : {}),
    // SNI takes names only; an IP address is still checked against the certificate's IP SANs.
    ...(net.isIP(host) === 0 ? { servername: host } : {}),
  });
  return { socket, readyEvent: 'secureConnect' };
}

/**
 * A listener that hands every accepted socket to `onSocket`: plain TCP, or TLS when `config` has
 * a cert and a key (a socket is handed over once its TLS handshake is done; failed handshakes are
 * passed to `onTlsError` and never reach the protocol). Throws INVALID_REQUEST for half a config.
 */
export function createListener(
  onSocket: (socket: net.Socket) => void,
  config: TlsConfig | undefined,
  onTlsError: (err: Error) => void = () => undefined,
): net.Server {
  if (config === undefined || (config.cert === undefined && config.key === undefined)) return net.createServer(onSocket);
  if (config.cert === undefined || config.key === undefined) {
    throw new RingwireError(ErrorCode.INVALID_REQUEST, 'a TLS server needs both a certificate (--tls-cert) and its key (--tls-key)');
  }
  let server: tls.Server;
  try {
    server = tls.createServer({ cert: Buffer.from(config.cert), key: Buffer.from(config.key) }, onSocket);
  } catch (err) {
    throw new RingwireError(ErrorCode.INVALID_REQUEST, `the TLS certificate or key is not usable: ${(err as Error).message}`, { cause: err });
  }
  server.on('tlsClientError', onTlsError);
  return server;
}
