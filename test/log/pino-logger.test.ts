// The pino-backed Logger as an operator reads it: one JSON object per line with level, time,
// message and every bound field once; levels filter; pretty mode is for people, not for parsers.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Writable } from 'node:stream';
import { pinoLogger } from '../../src/log/pino-logger.js';

/** A real writable stream (pino-pretty pipes into one) that keeps the lines written to it. */
function capture(): { lines: string[]; destination: Writable } {
  const lines: string[] = [];
  const destination = new Writable({
    write(chunk: Buffer | string, _enc, done) {
      lines.push(...String(chunk).split('\n').filter((l) => l !== ''));
      done();
    },
  });
  return { lines, destination };
}

test('JSON lines carry level, ISO time, msg, the bound peer and component, and the fields', () => {
  const out = capture();
  const root = pinoLogger({ level: 'info', pretty: false, destination: out.destination, bound: { worker: 1 } });
  const node = root.child({ component: 'node', peer: 'a'.repeat(40), addr: '127.0.0.1:4001' });
  node.child({ component: 'chord' }).info('joined', { hops: 2 });
  node.debug('not written at info');
  node.warn('plain');
  assert.equal(out.lines.length, 2);
  const first = JSON.parse(out.lines[0]!) as Record<string, unknown>;
  assert.deepEqual(
    { level: first.level, msg: first.msg, component: first.component, peer: first.peer, addr: first.addr, worker: first.worker, hops: first.hops },
    { level: 'info', msg: 'joined', component: 'chord', peer: 'a'.repeat(40), addr: '127.0.0.1:4001', worker: 1, hops: 2 },
  );
  assert.ok(!Number.isNaN(Date.parse(String(first.time))), 'time is an ISO date');
  assert.equal(out.lines[0]!.match(/"component"/g)!.length, 1, 'a re-bound field appears once, innermost value');
  assert.equal((JSON.parse(out.lines[1]!) as { level: string }).level, 'warn');
});

test('levels filter: at error only errors pass', () => {
  const out = capture();
  const log = pinoLogger({ level: 'error', pretty: false, destination: out.destination });
  log.info('no');
  log.warn('no');
  log.error('yes', { code: 'X' });
  assert.equal(out.lines.length, 1);
  assert.equal((JSON.parse(out.lines[0]!) as { msg: string }).msg, 'yes');
});

test('pretty mode writes readable lines with the level name, message and fields', () => {
  const out = capture();
  pinoLogger({ level: 'info', pretty: true, destination: out.destination, bound: { component: 'host' } }).warn('worker died', { worker: 3 });
  const text = out.lines.join('\n');
  assert.match(text, /WARN/);
  assert.match(text, /worker died/);
  assert.match(text, /component: "host"/);
  assert.throws(() => JSON.parse(out.lines[0]!), 'not JSON');
});
