// A whole host stopping: every peer of the ring leaves at once. Nobody stays to take the keys, and
// that is expected, so it must not read as trouble in the log, and every leave must finish.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { Logger } from '../../src/log/logger.js';
import { RingClient } from '../../src/net/client.js';
import { PeerNode } from '../../src/node/peer-node.js';
import { waitConsistent } from '../helpers/tcp-ring.js';

test('every peer leaving at once (a host shutting down) finishes and logs no warning', async (t) => {
  const warnings: string[] = [];
  const log: Logger = {
    debug: () => undefined,
    info: () => undefined,
    warn: (msg, fields) => void warnings.push(`warn: ${msg} ${JSON.stringify(fields)}`),
    error: (msg, fields) => void warnings.push(`error: ${msg} ${JSON.stringify(fields)}`),
    child: () => log,
  };
  const nodes: PeerNode[] = [];
  t.after(() => Promise.all(nodes.map((n) => n.close())));
  const base = { stabilizeMs: 50, port: 0, host: '127.0.0.1' };
  nodes.push(await PeerNode.start({ log }, base));
  for (let i = 1; i < 6; i++) nodes.push(await PeerNode.start({ log }, { ...base, join: nodes[0]!.addr }));
  await waitConsistent(nodes);
  const client = new RingClient({ requestTimeoutMs: 5000 });
  t.after(() => client.close());
  for (let i = 0; i < 30; i++) assert.ok((await client.put(nodes[i % nodes.length]!.addr, `key-${i}`, 'v')).copies >= 2);

  warnings.length = 0; // only the shutdown counts
  await Promise.all(nodes.map((n) => n.leave()));
  assert.deepEqual(warnings, []);
});
