// The CLI as a user runs it: real `chord node` processes, then put/get/del/lookup/ring against them.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, execFile, type ChildProcess } from 'node:child_process';
import { createInterface } from 'node:readline';
import { createHash } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import { eventually } from '../helpers/eventually.js';

const CLI = fileURLToPath(new URL('../../cli.js', import.meta.url));

interface Run { code: number | null; stdout: string; stderr: string }

function chord(args: string[]): Promise<Run> {
  return new Promise((resolve) => {
    execFile(process.execPath, [CLI, ...args], { timeout: 30_000 }, (err, stdout, stderr) => {
      const code = err && typeof (err as NodeJS.ErrnoException).code === 'number' ? ((err as unknown as { code: number }).code) : err ? 1 : 0;
      resolve({ code, stdout, stderr });
    });
  });
}

interface Peer { proc: ChildProcess; id: string; addr: string; exited: Promise<number | null> }

/** Starts `chord node` and waits for its ready line (port 0: the OS picks a free port). */
function startNode(extra: string[]): Promise<Peer> {
  const proc = spawn(process.execPath, [CLI, 'node', '--port', '0', '--stabilize-ms', '100', '--log-level', 'warn', ...extra], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const exited = new Promise<number | null>((resolve) => proc.once('exit', (code) => resolve(code)));
  let stderr = '';
  proc.stderr!.on('data', (d) => (stderr += d));
  return new Promise((resolve, reject) => {
    const lines = createInterface({ input: proc.stdout! });
    lines.once('line', (line) => {
      const ready = JSON.parse(line) as { event: string; id: string; addr: string };
      assert.equal(ready.event, 'ready');
      resolve({ proc, id: ready.id, addr: ready.addr, exited });
    });
    proc.once('exit', (code) => reject(new Error(`chord node exited with ${code} before ready: ${stderr}`)));
  });
}

test('chord node processes form a ring; put/get/del/lookup/ring work through any of them', async (t) => {
  const peers: Peer[] = [];
  t.after(() => {
    for (const p of peers) if (p.proc.exitCode === null) p.proc.kill('SIGKILL');
  });
  peers.push(await startNode([]));
  for (let i = 0; i < 3; i++) peers.push(await startNode(['--join', peers[0]!.addr]));

  // The ready line's id is SHA-1 of host:port.
  for (const p of peers) assert.equal(p.id, createHash('sha1').update(p.addr).digest('hex'));

  await eventually(async () => {
    const r = await chord(['ring', '--via', peers[2]!.addr, '--json']);
    if (r.code !== 0) throw new Error(r.stderr);
    const ring = JSON.parse(r.stdout) as Array<{ id: string; addr: string; predecessor: { id: string } | null; successors: Array<{ id: string }>; keys: number }>;
    if (ring.length !== 4) throw new Error(`walk saw ${ring.length} peers`);
    if (ring.some((p) => p.predecessor === null)) throw new Error('a predecessor is still unknown');
    return true;
  }, { timeoutMs: 20_000, what: 'a ring of 4 CLI peers' });

  const put = await chord(['put', 'greeting', 'hello world', '--via', peers[1]!.addr]);
  assert.equal(put.code, 0, put.stderr);
  for (const p of peers) {
    const got = await chord(['get', 'greeting', '--via', p.addr]);
    assert.equal(got.code, 0, got.stderr);
    assert.equal(got.stdout, 'hello world\n');
  }
  const json = await chord(['get', 'greeting', '--via', peers[3]!.addr, '--json']);
  assert.deepEqual(JSON.parse(json.stdout), { key: 'greeting', value: 'hello world' });

  const lookup = await chord(['lookup', 'greeting', '--via', peers[0]!.addr, '--json']);
  const answer = JSON.parse(lookup.stdout) as { key: string; keyId: string; owner: { id: string; addr: string }; hops: number; path: Array<{ id: string; addr: string }> };
  assert.equal(answer.keyId, createHash('sha1').update('greeting').digest('hex'));
  assert.ok(peers.some((p) => p.id === answer.owner.id && p.addr === answer.owner.addr));
  assert.ok(Number.isInteger(answer.hops) && answer.hops >= 0);
  assert.equal(answer.path.length, answer.hops);
  for (const hop of answer.path) assert.ok(peers.some((p) => p.id === hop.id && p.addr === hop.addr), `path entry ${hop.addr} is a peer`);

  const ring = JSON.parse((await chord(['ring', '--via', peers[0]!.addr, '--json'])).stdout) as Array<{ id: string; keys: number }>;
  const ids = ring.map((p) => p.id);
  const start = ids.indexOf([...ids].sort()[0]!);
  assert.deepEqual([...ids.slice(start), ...ids.slice(0, start)], [...ids].sort(), 'ring order is id order');
  assert.equal(ring.reduce((s, p) => s + p.keys, 0), 1, 'exactly one peer owns the key');

  const del = await chord(['del', 'greeting', '--via', peers[2]!.addr]);
  assert.equal(del.code, 0, del.stderr);
  const gone = await chord(['get', 'greeting', '--via', peers[0]!.addr]);
  assert.equal(gone.code, 3);
  assert.match(gone.stderr, /not found/);

  // SIGTERM: graceful leave, exit 0.
  const leaver = peers[3]!;
  leaver.proc.kill('SIGTERM');
  assert.equal(await leaver.exited, 0);
});

test('CLI errors name the problem: bad flags are usage errors (2), a dead address is an error (1)', async () => {
  const badPort = await chord(['node', '--port', '70000']);
  assert.equal(badPort.code, 2);
  assert.match(badPort.stderr, /--port "70000" is not a valid port/);

  const badVia = await chord(['get', 'k', '--via', 'localhost']);
  assert.equal(badVia.code, 2);
  assert.match(badVia.stderr, /--via "localhost" is not an address/);

  const missing = await chord(['put', 'k', '--via', '127.0.0.1:1']);
  assert.equal(missing.code, 2);
  assert.match(missing.stderr, /missing VALUE/);

  const unknown = await chord(['frobnicate']);
  assert.equal(unknown.code, 2);
  assert.match(unknown.stderr, /unknown command "frobnicate"/);

  const unknownFlag = await chord(['get', 'k', '--via', '127.0.0.1:1', '--bogus']);
  assert.equal(unknownFlag.code, 2);
  assert.match(unknownFlag.stderr, /bogus/);

  // Port 1 on loopback: nothing listens there.
  const dead = await chord(['get', 'k', '--via', '127.0.0.1:1']);
  assert.equal(dead.code, 1);
  assert.match(dead.stderr, /is it running there/);
});
