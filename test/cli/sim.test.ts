// `chord sim` as a user runs it: same flags, same result; bad flags name themselves (exit 2).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { writeFileSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const CLI = fileURLToPath(new URL('../../cli.js', import.meta.url));

function chord(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(process.execPath, [CLI, ...args], { timeout: 60_000 }, (err, stdout, stderr) => {
      const code = err ? (typeof (err as { code?: unknown }).code === 'number' ? (err as { code: number }).code : 1) : 0;
      resolve({ code, stdout, stderr });
    });
  });
}

test('chord sim --json: the same flags give the same result, and a scenario file is the same run', async (t) => {
  const flags = ['sim', '--peers', '40', '--seed', '5', '--lookups', '200', '--keys', '100', '--crash-fraction', '0.1', '--latency-ms', '2..30', '--json'];
  const [a, b] = await Promise.all([chord(flags), chord(flags)]);
  assert.equal(a.code, 0, a.stderr);
  const ra = JSON.parse(a.stdout) as { result: { digest: string; requests: { issued: number } } };
  const rb = JSON.parse(b.stdout) as { result: unknown };
  assert.deepEqual(ra.result, rb.result);
  assert.equal(ra.result.requests.issued, 200);
  const dir = mkdtempSync(join(tmpdir(), 'ringwire-sim-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const file = join(dir, 'scenario.json');
  writeFileSync(file, JSON.stringify({ peers: 40, seed: 5, lookups: 200, keys: 100, crashFraction: 0.1, latency: '2..30' }));
  const c = await chord(['sim', '--scenario', file, '--json']);
  assert.equal(c.code, 0, c.stderr);
  assert.deepEqual((JSON.parse(c.stdout) as { result: unknown }).result, ra.result);
  const human = await chord(['sim', '--peers', '16', '--lookups', '50']);
  assert.equal(human.code, 0, human.stderr);
  assert.match(human.stdout, /lookups: 50 issued, 0 failed/);
});

test('chord sim: bad flags are usage errors naming the flag', async () => {
  for (const [args, flag] of [
    [['--peers', 'many'], '--peers'],
    [['--crash-fraction', '1.5'], '--crash-fraction'],
    [['--latency-ms', '9..3'], '--latency-ms'],
    [['--scenario', '/nonexistent/x.json'], '--scenario'],
    [['--op', 'scan'], '--op'],
  ] as const) {
    const r = await chord(['sim', ...args]);
    assert.equal(r.code, 2, `${args.join(' ')}: ${r.stderr}`);
    assert.ok(r.stderr.includes(flag), `${args.join(' ')}: ${r.stderr}`);
  }
});
