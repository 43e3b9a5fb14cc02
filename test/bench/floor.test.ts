// bench-floor as a user runs it: bare node and src/wire exchanging small messages over loopback,
// each round reported, and the process gone by itself when it is done (every server closed).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { fileURLToPath } from 'node:url';
import { runScript } from './run-script.js';

const SCRIPT = fileURLToPath(new URL('../../bench/wire/floor.js', import.meta.url));

interface Round { cpuUsPerWrite: number; wallUsPerWrite: number }
interface Report {
  sockets: number;
  concurrency: number;
  bytes: number;
  writesPerRound: number;
  cpuUsPerWrite: number;
  rounds: Round[];
  wire: { cpuUsPerMessage: number; rounds: Array<{ cpuUsPerMessage: number; wallUsPerMessage: number }> };
}

const run = (args: string[]) => runScript(SCRIPT, args);

test('bench-floor measures bare node and src/wire per message, round by round, and exits', async () => {
  for (const concurrency of ['1', '8']) {
    const r = await run(['--sockets', '8', '--concurrency', concurrency, '--messages', '300', '--rounds', '2', '--bytes', '40', '--json']);
    assert.equal(r.code, 0, r.stderr);
    const report = JSON.parse(r.stdout) as Report;
    assert.equal(report.sockets, 8);
    assert.equal(report.concurrency, Number(concurrency));
    assert.equal(report.bytes, 40);
    assert.equal(report.writesPerRound, 600);
    assert.equal(report.rounds.length, 2);
    assert.equal(report.wire.rounds.length, 2);
    for (const x of report.rounds) assert.ok(x.cpuUsPerWrite > 0 && x.wallUsPerWrite > 0, JSON.stringify(x));
    for (const x of report.wire.rounds) assert.ok(x.cpuUsPerMessage > 0 && x.wallUsPerMessage > 0, JSON.stringify(x));
  }
});

test('bench-floor refuses a bad value and an unknown flag, naming them', async () => {
  const bad = await run(['--sockets', '0']);
  assert.equal(bad.code, 2);
  assert.match(bad.stderr, /--sockets.*positive integers/);
  const unknown = await run(['--frobnicate']);
  assert.equal(unknown.code, 2);
  assert.match(unknown.stderr, /frobnicate/);
});
