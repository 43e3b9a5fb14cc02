/**
 * The ring view in headless Chromium against a fresh local cluster: takes the README's screenshot
 * and measures how long the page takes to draw the ring.
 *   node dist/bench/ring-view.js --peers 64 --out docs/ring-view.png      (make screenshot)
 *   node dist/bench/ring-view.js --peers 1024 --keys 5000 --out /tmp/ring-1024.png
 * The cluster gets `--keys` keys (so colours vary), a peer is clicked (its fingers are drawn), and a
 * lookup with at least two hops is animated to its end before the shot. Prints one JSON object:
 * {peers, keys, consistentMs (null: not consistent within --consistent-timeout-ms), ringConsistent, drawMedianMs, drawMaxMs, updateMs, firstPaintMs, lookupHops, out}:
 * drawMedianMs = median of 20 full redraws, updateMs = handling one membership event (parse +
 * sort + draw), firstPaintMs = navigation start until every peer is drawn.
 */
import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import { parseFlags } from './args.js';
import { AdminServer } from '../src/host/admin-server.js';
import { ClusterHost } from '../src/host/cluster-host.js';
import { RingClient } from '../src/net/client.js';
import { chromiumMissing, launchChromium } from '../test/helpers/chromium.js';

const { values } = parseFlags({
  peers: { type: 'string', default: '64' },
  workers: { type: 'string', default: '2' },
  keys: { type: 'string', default: '600' },
  out: { type: 'string', default: 'docs/ring-view.png' },
  width: { type: 'string', default: '1400' },
  height: { type: 'string', default: '900' },
  // A ring still settling is worth a picture too: after this long the shot is taken anyway and
  // the JSON says how consistent the ring was.
  'consistent-timeout-ms': { type: 'string', default: '600000' },
});
const peers = Number(values.peers);
const keys = Number(values.keys);
const missing = chromiumMissing();
if (missing) {
  console.error(`ring-view: ${missing}`);
  process.exit(1);
}

const cluster = new ClusterHost({}, { peers, workers: Number(values.workers), basePort: 0, registryPort: 0 });
const admin = new AdminServer({ host: cluster });
const client = new RingClient({ requestTimeoutMs: 20_000 });
// Plain routing for choosing the pictured lookup, as the page does by default.
const plainClient = new RingClient({ requestTimeoutMs: 20_000, routeCache: false });
const browser = await launchChromium();
try {
  const port = await admin.listen('127.0.0.1', 0);
  const t0 = performance.now();
  await cluster.start();
  let consistentMs: number | null = null;
  try {
    await cluster.waitConsistent(Number(values['consistent-timeout-ms']));
    consistentMs = Math.round(performance.now() - t0);
  } catch (err) {
    console.error(`ring-view: going on with a ring that is not consistent yet: ${String(err).slice(0, 300)}`);
  }
  const ringConsistent = (await cluster.health(false)).ringConsistent;
  const list = cluster.list();
  let failedPuts = 0;
  for (let i = 0; i < keys; i += 50) {
    const batch = Array.from({ length: Math.min(50, keys - i) }, (_, j) => client.put(list[(i + j) % list.length]!.addr, `key-${i + j}`, `value-${i + j}`));
    for (const r of await Promise.allSettled(batch)) if (r.status === 'rejected') failedPuts++;
  }

  const page = await browser.newPage({ viewport: { width: Number(values.width), height: Number(values.height) } });
  const nav = performance.now();
  await page.goto(`http://127.0.0.1:${port}/`);
  await page.waitForSelector(`body[data-peers="${list.length}"]`, { timeout: 60_000 });
  const firstPaintMs = Math.round(performance.now() - nav);

  // A lookup that travels: the first key (of a few hundred) whose path has two hops or more.
  let lookup = { key: 'key-0', via: list[0]!, hops: -1 };
  for (let i = 0; i < 300 && lookup.hops < 2; i++) {
    const via = list[(i * 7) % list.length]!;
    const res = await plainClient.lookup(via.addr, `lookup-${i}`);
    if (res.hops > lookup.hops) lookup = { key: `lookup-${i}`, via, hops: res.hops };
  }
  const at = await page.evaluate((id) => (window as unknown as RingViewWindow).ringView.positionOf(id), lookup.via.id);
  if (at) await page.mouse.click(at.x, at.y);
  await page.waitForSelector(`#details[data-peer-id="${lookup.via.id}"]`, { timeout: 10_000 });
  await page.fill('#lookup-key', lookup.key);
  await page.click('#lookup-btn');
  await page.waitForSelector('#lookup-result[data-done="true"]', { timeout: 30_000 });
  await page.mouse.move(5, 5); // no tooltip in the picture
  const timing = await page.evaluate(() => (window as unknown as RingViewWindow).ringView.benchmark(20));
  mkdirSync(dirname(values.out), { recursive: true });
  await page.screenshot({ path: values.out });
  console.log(
    JSON.stringify({
      peers: list.length,
      keys,
      failedPuts,
      consistentMs,
      ringConsistent,
      drawMedianMs: round(timing.median),
      drawMaxMs: round(timing.max),
      updateMs: round(timing.lastUpdateMs),
      firstPaintMs,
      lookupHops: lookup.hops,
      out: values.out,
    }),
  );
} finally {
  await browser.close();
  await client.close();
  await plainClient.close();
  await admin.close();
  await cluster.shutdown();
}

function round(ms: number): number {
  return Math.round(ms * 100) / 100;
}

interface RingViewWindow {
  ringView: {
    positionOf(id: string): { x: number; y: number } | null;
    benchmark(n: number): { median: number; max: number; peers: number; lastUpdateMs: number };
  };
}
