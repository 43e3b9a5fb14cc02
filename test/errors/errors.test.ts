/**
 * Errors that only travel as replies are built without a stack (capturing one costs several times
 * what a refusal does), and building them leaves stack capture on for every other error.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ErrorCode, RemoteError, RingwireError, hasCode, refusal } from '../../src/errors/errors.js';

function thrower(): never {
  throw new RingwireError(ErrorCode.INTERNAL, 'with a stack');
}

test('remote errors and refusals keep their code and message but carry no stack frames', () => {
  const before = Error.stackTraceLimit;
  const remote = new RemoteError(ErrorCode.NOT_OWNER, 'not ours');
  const refused = refusal(ErrorCode.NOT_READY, 'leaving');
  for (const [err, name] of [[remote, 'RemoteError'], [refused, 'RingwireError']] as const) {
    assert.ok(err instanceof RingwireError);
    assert.equal(err.stack, `${name}: ${err.message}`, 'no "at ..." lines');
  }
  assert.ok(hasCode(remote, ErrorCode.NOT_OWNER) && hasCode(refused, ErrorCode.NOT_READY));
  assert.equal(Error.stackTraceLimit, before, 'the stack trace limit is restored');
  assert.throws(thrower, (err: Error) => /\n\s+at thrower/.test(err.stack ?? ''), 'other errors still record where they were thrown');
});
