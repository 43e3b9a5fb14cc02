/**
 * The CLI's TLS flags: `--tls-cert F --tls-key F` make a server (node, registry, cluster) accept
 * TLS only; `--tls-ca F` makes every outgoing connection speak TLS and verify the server's
 * certificate against that CA (a client needs only --tls-ca; a peer, all three).
 */
import { readFileSync } from 'node:fs';
import type { TlsConfig } from '../wire/index.js';
import { UsageError } from './args.js';

export const TLS_FLAGS = {
  'tls-cert': { type: 'string' as const },
  'tls-key': { type: 'string' as const },
  'tls-ca': { type: 'string' as const },
};

function readPem(flag: string, file: string | undefined): Buffer | undefined {
  if (file === undefined) return undefined;
  let pem: Buffer;
  try {
    pem = readFileSync(file);
  } catch (err) {
    const why = (err as NodeJS.ErrnoException).code ?? (err as Error).message;
    throw new UsageError(`--${flag} ${JSON.stringify(file)} cannot be read (${why}): give a readable PEM file`);
  }
  if (!pem.includes('-----BEGIN')) throw new UsageError(`--${flag} ${JSON.stringify(file)} is not a PEM file (no "-----BEGIN" line)`);
  return pem;
}

/**
 * The TLS config from the flags (undefined when none is given). `server` commands need cert and
 * key together; a cert without a key (or the reverse) is a UsageError naming the missing flag.
 */
export function loadTls(values: Record<string, string | boolean | undefined>, server: boolean): TlsConfig | undefined {
  const cert = readPem('tls-cert', values['tls-cert'] as string | undefined);
  const key = readPem('tls-key', values['tls-key'] as string | undefined);
  const ca = readPem('tls-ca', values['tls-ca'] as string | undefined);
  if (cert === undefined && key === undefined && ca === undefined) return undefined;
  if ((cert === undefined) !== (key === undefined)) {
    throw new UsageError(`--${cert === undefined ? 'tls-cert' : 'tls-key'} is missing: a TLS certificate and its key go together`);
  }
  if (server && cert === undefined) {
    throw new UsageError('--tls-ca alone makes only outgoing connections TLS: give --tls-cert and --tls-key too so this server accepts TLS');
  }
  return { ...(cert ? { cert } : {}), ...(key ? { key } : {}), ...(ca ? { ca } : {}) };
}
