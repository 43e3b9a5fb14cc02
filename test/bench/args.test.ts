// The bench scripts' flags: a wrong flag or a missing value is a usage error (exit 2) that names
// the problem and lists the flags the script takes, never a stack trace.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { usageOf } from '../../bench/args.js';

function run(script: string, args: string[]): Promise<{ code: number; stderr: string }> {
  const path = fileURLToPath(new URL(`../../bench/${script}`, import.meta.url));
  return new Promise((resolve) => {
    execFile(process.execPath, [path, ...args], { timeout: 30_000 }, (err, _stdout, stderr) => {
      resolve({ code: err === null ? 0 : typeof err.code === 'number' ? err.code : 1, stderr });
    });
  });
}

test('usage lists every flag with its default, VALUE where there is none', () => {
  const line = usageOf('dist/bench/x.js', { peers: { type: 'string', default: '256' }, tag: { type: 'string', default: '' }, dir: { type: 'string' }, json: { type: 'boolean', default: false } });
  assert.equal(line, 'usage: node dist/bench/x.js [--peers 256] [--tag VALUE] [--dir VALUE] [--json]');
});

test('an unknown flag or a missing value exits 2 with the reason and the usage', async () => {
  for (const [script, args, reason] of [
    ['suite.js', ['--frobnicate'], /Unknown option '--frobnicate'/],
    ['wire/main.js', ['--listeners'], /argument missing/],
    ['messages.js', ['--peers'], /argument missing/],
    ['sim-search.js', ['--nope'], /Unknown option '--nope'/],
  ] as const) {
    const r = await run(script, [...args]);
    assert.equal(r.code, 2, `${script} ${args.join(' ')}: ${r.stderr}`);
    assert.match(r.stderr, reason);
    assert.match(r.stderr, new RegExp(`usage: node \\S*${script.replace('.', '\\.')} \\[--`));
    assert.doesNotMatch(r.stderr, /\n\s+at /, 'no stack trace');
  }
});
