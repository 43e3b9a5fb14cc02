// Optional TLS over real TCP, with certificates made by `openssl` at test time (skipped without
// it): peers, the registry and clients speak TLS and verify certificates against the test CA; a
// plain client or one trusting another CA is not served.
import { test } from 'node:test';
import type { TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { RingwireError } from '../../src/errors/errors.js';
import { RingClient } from '../../src/net/client.js';
import { PeerNode } from '../../src/node/peer-node.js';
import { RegistryServer } from '../../src/registry/registry-server.js';
import { ClusterSecret, type TlsConfig } from '../../src/wire/index.js';
import { eventually } from '../helpers/eventually.js';
import { waitConsistent } from '../helpers/tcp-ring.js';

const CLI = fileURLToPath(new URL('../../cli.js', import.meta.url));

function hasOpenssl(): boolean {
  try {
    execFileSync('openssl', ['version'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

interface Pki { dir: string; ca: string; cert: string; key: string; otherCa: string }

/** A CA, a certificate for 127.0.0.1 signed by it, and an unrelated second CA. */
function makePki(t: TestContext): Pki {
  const dir = mkdtempSync(join(tmpdir(), 'ringwire-tls-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const run = (...args: string[]): void => void execFileSync('openssl', args, { cwd: dir, stdio: 'ignore' });
  const ec = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes'];
  run('req', '-x509', ...ec, '-keyout', 'ca.key', '-out', 'ca.pem', '-days', '1', '-subj', '/CN=ringwire test CA');
  run('req', '-x509', ...ec, '-keyout', 'other.key', '-out', 'other.pem', '-days', '1', '-subj', '/CN=some other CA');
  run('req', ...ec, '-keyout', 'peer.key', '-out', 'peer.csr', '-subj', '/CN=127.0.0.1');
  writeFileSync(join(dir, 'ext.cnf'), 'subjectAltName=IP:127.0.0.1\n');
  run('x509', '-req', '-in', 'peer.csr', '-CA', 'ca.pem', '-CAkey', 'ca.key', '-CAcreateserial', '-out', 'peer.pem', '-days', '1', '-extfile', 'ext.cnf');
  return { dir, ca: join(dir, 'ca.pem'), cert: join(dir, 'peer.pem'), key: join(dir, 'peer.key'), otherCa: join(dir, 'other.pem') };
}

const skip = hasOpenssl() ? false : 'openssl is not installed: no way to make test certificates';

test('TLS: a ring of peers and a registry over TLS; clients verify the CA; plain or wrongly-trusting clients are not served', { skip }, async (t) => {
  const pki = makePki(t);
  const peerTls: TlsConfig = { cert: readFileSync(pki.cert), key: readFileSync(pki.key), ca: readFileSync(pki.ca) };
  const secret = new ClusterSecret('tls and a secret');
  const registry = new RegistryServer({}, { tls: peerTls, secret });
  t.after(() => registry.close());
  const registryAddr = `127.0.0.1:${await registry.listen('127.0.0.1', 0)}`;
  // Every peer bootstraps through the TLS registry (which dials each back over TLS to verify it)
  // and joins the ring over TLS.
  const nodes: PeerNode[] = [];
  t.after(() => Promise.all(nodes.map((n) => n.close())));
  for (let i = 0; i < 3; i++) nodes.push(await PeerNode.start({}, { port: 0, registry: registryAddr, stabilizeMs: 50, tls: peerTls, secret }));
  await eventually(() => registry.memberCount() === 3, { what: 'three peers registered over TLS' });
  await waitConsistent(nodes);

  const client = new RingClient({ tls: { ca: readFileSync(pki.ca) }, secret, requestTimeoutMs: 3000 });
  t.after(() => client.close());
  await client.put(nodes[0]!.addr, 'over-tls', 'encrypted');
  assert.equal(Buffer.from((await client.get(nodes[2]!.addr, 'over-tls')).value).toString(), 'encrypted');

  const plain = new RingClient({ secret, requestTimeoutMs: 2000, connectTimeoutMs: 1000 });
  t.after(() => plain.close());
  await assert.rejects(plain.get(nodes[1]!.addr, 'over-tls'), RingwireError);
  const distrustful = new RingClient({ tls: { ca: readFileSync(pki.otherCa) }, secret, requestTimeoutMs: 2000, connectTimeoutMs: 1000 });
  t.after(() => distrustful.close());
  await assert.rejects(distrustful.get(nodes[1]!.addr, 'over-tls'), (e: unknown) => e instanceof RingwireError && /certificate/i.test(e.message));

  // The CLI: --tls-ca to verify, the secret from the environment.
  const env = { ...process.env, CHORD_SECRET: 'tls and a secret' };
  const out = await new Promise<{ code: number; stdout: string; stderr: string }>((resolve) => {
    execFile(process.execPath, [CLI, 'get', 'over-tls', '--via', nodes[1]!.addr, '--tls-ca', pki.ca], { env, timeout: 30_000 }, (err, stdout, stderr) => {
      resolve({ code: err ? 1 : 0, stdout, stderr });
    });
  });
  assert.equal(out.code, 0, out.stderr);
  assert.equal(out.stdout.trim(), 'encrypted');
});
