// Cluster authentication over real TCP: peers, the registry and the CLI with a shared secret; a
// wrong or missing secret is refused on both sides with AUTH_FAILED, and a peer without the
// secret can neither join nor read.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtempSync, writeFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { inspect } from 'node:util';
import { fileURLToPath } from 'node:url';
import { ErrorCode, RingwireError } from '../../src/errors/errors.js';
import { ClusterHost } from '../../src/host/cluster-host.js';
import { RingClient } from '../../src/net/client.js';
import { PeerNode } from '../../src/node/peer-node.js';
import { RegistryServer } from '../../src/registry/registry-server.js';
import { queryRegistryOnce } from '../../src/registry/registry-query.js';
import { ClusterSecret } from '../../src/wire/index.js';
import { startTcpRing, waitConsistent } from '../helpers/tcp-ring.js';

const CLI = fileURLToPath(new URL('../../cli.js', import.meta.url));
const SECRET = new ClusterSecret('correct horse battery staple');
const OTHER = new ClusterSecret('another cluster entirely');

const isAuthFailed = (e: unknown): boolean => e instanceof RingwireError && e.code === ErrorCode.AUTH_FAILED;

test('the secret never prints: inspect, JSON and string forms are redacted', () => {
  for (const shown of [inspect(SECRET), JSON.stringify({ secret: SECRET }), String(SECRET), inspect({ secret: SECRET })]) {
    assert.ok(!shown.includes('horse'), shown);
    assert.ok(shown.includes('[secret]'), shown);
  }
  assert.throws(() => new ClusterSecret(''), isAuthFailedOrInvalid);
});

function isAuthFailedOrInvalid(e: unknown): boolean {
  return e instanceof RingwireError && e.code === ErrorCode.INVALID_REQUEST;
}

test('matching secrets: a ring forms and clients read and write; wrong or missing secrets are refused both ways', async (t) => {
  const nodes = await startTcpRing(4, t, { secret: SECRET });
  await waitConsistent(nodes);
  const good = new RingClient({ secret: SECRET, requestTimeoutMs: 3000 });
  t.after(() => good.close());
  await good.put(nodes[0]!.addr, 'k', 'v');
  const got = await good.get(nodes[2]!.addr, 'k');
  assert.equal(Buffer.from(got.value).toString(), 'v');

  // A client without the secret: the peer refuses its hello.
  const none = new RingClient({ requestTimeoutMs: 3000 });
  t.after(() => none.close());
  await assert.rejects(none.get(nodes[1]!.addr, 'k'), (e: unknown) => isAuthFailed(e) && /requires the cluster secret/.test((e as Error).message));
  // A client with another secret: it sees the peer fail to prove the secret (client side refuses).
  const wrong = new RingClient({ secret: OTHER, requestTimeoutMs: 3000 });
  t.after(() => wrong.close());
  await assert.rejects(wrong.get(nodes[1]!.addr, 'k'), (e: unknown) => isAuthFailed(e) && /did not prove/.test((e as Error).message));
  // A client with a secret talking to a peer without one: refused on the client side.
  const [open] = await startTcpRing(1, t);
  await assert.rejects(good.get(open!.addr, 'k'), (e: unknown) => isAuthFailed(e) && /did not prove/.test((e as Error).message));

});

test('a peer without the secret (or with another) cannot join a ring that has one', async (t) => {
  const nodes = await startTcpRing(3, t, { secret: SECRET });
  await waitConsistent(nodes);
  for (const secret of [undefined, OTHER]) {
    const started = PeerNode.start({}, { host: '127.0.0.1', port: 0, join: nodes[0]!.addr, stabilizeMs: 50, ...(secret ? { secret } : {}) });
    await assert.rejects(started, (e: unknown) => e instanceof RingwireError && e.code === ErrorCode.JOIN_FAILED && /AUTH_FAILED/.test(e.message));
  }
  // The ring is unchanged and still answers.
  await waitConsistent(nodes);
});

test('the registry refuses clients and registrations without the secret, and serves those with it', async (t) => {
  const registry = new RegistryServer({}, { secret: SECRET });
  t.after(() => registry.close());
  const port = await registry.listen('127.0.0.1', 0);
  const addr = `127.0.0.1:${port}`;
  await assert.rejects(queryRegistryOnce(addr, { type: 'sample', count: 3 }), isAuthFailed);
  await assert.rejects(queryRegistryOnce(addr, { type: 'sample', count: 3 }, { secret: OTHER }), isAuthFailed);
  const answer = await queryRegistryOnce(addr, { type: 'sample', count: 3 }, { secret: SECRET });
  assert.equal(answer.type, 'peerList');

  const first = await PeerNode.start({}, { host: '127.0.0.1', port: 0, registry: addr, stabilizeMs: 50, secret: SECRET });
  t.after(() => first.close());
  const second = await PeerNode.start({}, { host: '127.0.0.1', port: 0, registry: addr, stabilizeMs: 50, secret: SECRET });
  t.after(() => second.close());
  await waitConsistent([first, second]);
  // Without the secret, bootstrapping through the registry fails with AUTH_FAILED.
  await assert.rejects(PeerNode.start({}, { host: '127.0.0.1', port: 0, registry: addr, stabilizeMs: 50 }), isAuthFailed);
});

function chord(args: string[], env: NodeJS.ProcessEnv): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(process.execPath, [CLI, ...args], { timeout: 30_000, env }, (err, stdout, stderr) => {
      const code = err ? (typeof (err as { code?: unknown }).code === 'number' ? (err as unknown as { code: number }).code : 1) : 0;
      resolve({ code, stdout, stderr });
    });
  });
}

test('CLI: the secret comes from CHORD_SECRET or --secret-file; a wrong one fails with AUTH_FAILED and is never printed', async (t) => {
  const nodes = await startTcpRing(2, t, { secret: SECRET });
  await waitConsistent(nodes);
  const dir = mkdtempSync(join(tmpdir(), 'ringwire-secret-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const file = join(dir, 'secret');
  writeFileSync(file, 'correct horse battery staple\n', { mode: 0o600 });
  const baseEnv = { ...process.env };
  delete baseEnv.CHORD_SECRET;
  const via = nodes[0]!.addr;

  const put = await chord(['put', 'a', 'b', '--via', via, '--secret-file', file], baseEnv);
  assert.equal(put.code, 0, put.stderr);
  const get = await chord(['get', 'a', '--via', via], { ...baseEnv, CHORD_SECRET: 'correct horse battery staple' });
  assert.equal(get.code, 0, get.stderr);
  assert.equal(get.stdout.trim(), 'b');

  const wrong = await chord(['get', 'a', '--via', via], { ...baseEnv, CHORD_SECRET: 'nope, not it' });
  assert.equal(wrong.code, 1);
  assert.match(wrong.stderr, /AUTH_FAILED/);
  assert.ok(!wrong.stderr.includes('nope, not it'), 'the secret is not printed');
  const missing = await chord(['ring', '--via', via], baseEnv);
  assert.equal(missing.code, 1);
  assert.match(missing.stderr, /AUTH_FAILED.*CHORD_SECRET/);

  const badFile = await chord(['get', 'a', '--via', via, '--secret-file', join(dir, 'nope')], baseEnv);
  assert.equal(badFile.code, 2);
  assert.match(badFile.stderr, /--secret-file/);
  const plainFlag = await chord(['get', 'a', '--via', via, '--secret', 'x'], baseEnv);
  assert.equal(plainFlag.code, 2, 'there is no plain --secret flag');
});

test('a host cluster with a secret: its workers get it, its registry and peers require it', async (t) => {
  const host = new ClusterHost({ secret: SECRET }, { peers: 4, workers: 2, basePort: 0, registryPort: 0, stabilizeMs: 100 });
  t.after(() => host.shutdown());
  await host.start();
  await host.waitConsistent(60_000);
  const [a, b] = host.list();
  const good = new RingClient({ secret: SECRET, requestTimeoutMs: 3000 });
  t.after(() => good.close());
  await good.put(a!.addr, 'clustered', 'yes');
  assert.equal(Buffer.from((await good.get(b!.addr, 'clustered')).value).toString(), 'yes');
  const none = new RingClient({ requestTimeoutMs: 3000 });
  t.after(() => none.close());
  await assert.rejects(none.get(b!.addr, 'clustered'), isAuthFailed);
  await assert.rejects(queryRegistryOnce(host.registryAddress, { type: 'sample', count: 3 }), isAuthFailed);
  assert.equal((await queryRegistryOnce(host.registryAddress, { type: 'sample', count: 3 }, { secret: SECRET })).type, 'peerList');
});
