// A host cluster as a user runs it: peers in worker threads over real TCP, driven through the
// admin HTTP API; and the `chord cluster` process itself under SIGINT.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { AdminServer } from '../../src/host/admin-server.js';
import { ClusterHost } from '../../src/host/cluster-host.js';
import { TrueRing } from '../../src/host/health.js';
import { RingClient } from '../../src/net/client.js';
import { idToHex } from '../../src/ring/index.js';
import { eventually } from '../helpers/eventually.js';

const CLI = fileURLToPath(new URL('../../cli.js', import.meta.url));

async function http(method: string, url: string, body?: unknown): Promise<{ status: number; json: unknown }> {
  const res = await fetch(url, { method, body: body === undefined ? undefined : JSON.stringify(body), headers: { 'content-type': 'application/json' } });
  return { status: res.status, json: await res.json() };
}

test('64 peers over 2 workers converge; keys resolve to the true owner; crash and leave lose no key', async (t) => {
  const cluster = new ClusterHost({}, { peers: 64, workers: 2, basePort: 0, registryPort: 0, stabilizeMs: 200 });
  const admin = new AdminServer({ host: cluster });
  t.after(async () => {
    await admin.close();
    await cluster.shutdown();
  });
  const adminPort = await admin.listen('127.0.0.1', 0);
  const api = `http://127.0.0.1:${adminPort}/api`;
  await cluster.start();
  await cluster.waitConsistent(120_000);

  const peers = (await http('GET', `${api}/peers`)).json as Array<{ id: string; addr: string; worker: number }>;
  assert.equal(peers.length, 64);
  assert.deepEqual(new Set(peers.map((p) => p.worker)), new Set([0, 1]), 'peers are spread over both workers');

  const client = new RingClient({ requestTimeoutMs: 10_000 });
  t.after(() => client.close());
  const ring = new TrueRing(peers.map((p) => p.id));
  const keys = Array.from({ length: 1000 }, (_, i) => `k${i}-${Math.random().toString(36).slice(2)}`);
  for (let i = 0; i < keys.length; i += 50) {
    await Promise.all(
      keys.slice(i, i + 50).map(async (k, j) => {
        const via = peers[(i + j) % peers.length]!.addr;
        const res = await client.lookup(via, k);
        assert.equal(idToHex(res.owner.id), ring.successorOf(res.keyId), `owner of ${k}`);
        await client.put(via, k, k.toUpperCase());
      }),
    );
  }
  await eventually(async () => {
    const h = (await http('GET', `${api}/health`)).json as { keysBelowReplicaTarget: number; keys: number };
    if (h.keys !== keys.length || h.keysBelowReplicaTarget !== 0) throw new Error(JSON.stringify(h));
    return true;
  }, { timeoutMs: 30_000, what: 'every key at its replica target' });

  // One crash and one leave through the admin API, at non-adjacent ring positions.
  const sorted = ring.hex;
  const crashId = sorted[5]!;
  const leaveId = sorted[30]!;
  assert.equal((await http('DELETE', `${api}/peers/${crashId}?mode=crash`)).status, 200);
  assert.equal((await http('DELETE', `${api}/peers/${leaveId}?mode=leave`)).status, 200);
  assert.equal((await http('DELETE', `${api}/peers/${crashId}?mode=crash`)).status, 404);
  assert.equal((await http('DELETE', `${api}/peers/${leaveId}?mode=explode`)).status, 400);
  await cluster.waitConsistent(60_000);
  const survivors = (await http('GET', `${api}/peers`)).json as Array<{ addr: string }>;
  assert.equal(survivors.length, 62);
  await eventually(async () => {
    const got = await Promise.all(keys.map((k, i) => client.get(survivors[i % survivors.length]!.addr, k)));
    const missing = keys.filter((_, i) => !got[i]!.found || Buffer.from(got[i]!.value).toString() !== keys[i]!.toUpperCase());
    if (missing.length) throw new Error(`${missing.length} keys missing, e.g. ${missing[0]}`);
    return true;
  }, { timeoutMs: 30_000, what: 'all 1,000 keys readable after a crash and a leave' });

  const added = (await http('POST', `${api}/peers`, { count: 2 })).json as { added: unknown[] };
  assert.equal(added.added.length, 2);
  assert.equal((await http('POST', `${api}/peers`, { count: 'many' })).status, 400);
  await cluster.waitConsistent(60_000);
});

test('chord cluster: ready line, then SIGINT makes every peer leave and the process exit 0', async (t) => {
  const proc = spawn(process.execPath, [CLI, 'cluster', '--peers', '8', '--workers', '2', '--base-port', '0', '--registry-port', '0', '--admin-port', '0', '--stabilize-ms', '100'], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  t.after(() => {
    if (proc.exitCode === null) proc.kill('SIGKILL');
  });
  let stderr = '';
  proc.stderr.on('data', (d) => (stderr += d));
  const exited = new Promise<number | null>((resolve) => proc.once('exit', (code) => resolve(code)));
  const ready = await new Promise<{ event: string; peers: number; registry: string; admin: string }>((resolve, reject) => {
    createInterface({ input: proc.stdout }).once('line', (line) => resolve(JSON.parse(line)));
    proc.once('exit', (code) => reject(new Error(`cluster exited with ${code}: ${stderr}`)));
  });
  assert.equal(ready.event, 'ready');
  assert.equal(ready.peers, 8);
  const peers = (await http('GET', `http://${ready.admin}/api/peers`)).json as Array<{ addr: string }>;
  assert.equal(peers.length, 8);
  const client = new RingClient();
  t.after(() => client.close());
  await client.put(peers[0]!.addr, 'x', 'y');
  assert.equal(Buffer.from((await client.get(peers[7]!.addr, 'x')).value).toString(), 'y');
  client.close();

  proc.kill('SIGINT');
  assert.equal(await exited, 0, stderr);
});

test('a worker that dies is reported, its peers count as crashed, nothing is restarted', async (t) => {
  const cluster = new ClusterHost({}, { peers: 12, workers: 2, basePort: 0, registryPort: 0, stabilizeMs: 100 });
  const admin = new AdminServer({ host: cluster });
  t.after(async () => {
    await admin.close();
    await cluster.shutdown();
  });
  const api = `http://127.0.0.1:${await admin.listen('127.0.0.1', 0)}/api`;
  await cluster.start();
  await cluster.waitConsistent(60_000);
  await cluster.killWorker(1);
  await eventually(async () => {
    const h = (await http('GET', `${api}/health?keys=false`)).json as { peers: number; deadWorkers: Array<{ worker: number; peers: string[] }> };
    return h.deadWorkers.length === 1 && h.deadWorkers[0]!.worker === 1 && h.deadWorkers[0]!.peers.length === 6 && h.peers === 6;
  }, { what: 'dead worker reported with its 6 peers' });
  const peers = (await http('GET', `${api}/peers`)).json as Array<{ worker: number }>;
  assert.deepEqual(new Set(peers.map((p) => p.worker)), new Set([0]), 'no peer was restarted elsewhere');
  // The surviving half heals into a ring of its own (6 crashes < successor list length 8).
  await cluster.waitConsistent(60_000);
});
