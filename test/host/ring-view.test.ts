// The ring view in a real headless Chromium against a running 32-peer cluster: what a user sees
// and does on the page, checked against the cluster itself and the `chord lookup --json` answer.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { fileURLToPath } from 'node:url';
import { AdminServer } from '../../src/host/admin-server.js';
import { ClusterHost } from '../../src/host/cluster-host.js';
import { eventually } from '../helpers/eventually.js';
import { chromiumMissing, launchChromium } from '../helpers/chromium.js';
import type { Page } from 'playwright-core';

const CLI = fileURLToPath(new URL('../../cli.js', import.meta.url));
const STABILIZE_MS = 250;

/**
 * Clicks a peer's dot and waits for its details, as a user would. The dot's position is read just
 * before each click; a click that selected nothing (the page's layout moved between reading and
 * clicking, e.g. a status line appearing) is repeated, at most 3 times, and a failure says what the
 * page showed instead.
 */
async function clickPeer(page: Page, id: string): Promise<void> {
  for (let attempt = 1; ; attempt++) {
    const at = await page.evaluate((peer) => window.ringView.positionOf(peer), id);
    assert.ok(at, `peer ${id} is drawn`);
    await page.mouse.click(at.x, at.y);
    try {
      await page.waitForSelector(`#details[data-peer-id="${id}"]`, { timeout: 5000 });
      return;
    } catch (err) {
      if (attempt >= 3) {
        const shown = await page.evaluate(() => ({ selected: document.querySelector('#details')?.getAttribute('data-peer-id'), message: document.querySelector('#message')?.textContent }));
        throw new Error(`details of ${id} not shown after ${attempt} clicks (page shows ${JSON.stringify(shown)}): ${String(err)}`);
      }
    }
  }
}

interface PeerRow {
  id: string;
  addr: string;
  worker: number;
}

test('ring view: 32 peers shown, details on click, lookup path matches chord lookup, a crash disappears', { skip: chromiumMissing() }, async (t) => {
  // Without route caches, `chord lookup` and the page's lookup both route by fingers alone, so
  // the same key through the same entry takes the same path (a cache would make the second one hop).
  const cluster = new ClusterHost({}, { peers: 32, workers: 2, basePort: 0, registryPort: 0, stabilizeMs: STABILIZE_MS, routeCache: false });
  const admin = new AdminServer({ host: cluster }, { eventsIntervalMs: 200 });
  t.after(async () => {
    await admin.close();
    await cluster.shutdown();
  });
  const port = await admin.listen('127.0.0.1', 0);
  const base = `http://127.0.0.1:${port}`;
  await cluster.start();
  await cluster.waitConsistent(60_000);

  const browser = await launchChromium();
  t.after(() => browser.close());
  const page = await browser.newPage({ viewport: { width: 1280, height: 800 } });
  const pageErrors: string[] = [];
  page.on('pageerror', (e) => pageErrors.push(e.message));
  await page.goto(`${base}/`);

  // 32 peers on the page, the same ones the cluster runs.
  await page.waitForSelector('body[data-peers="32"]', { timeout: 10_000 });
  const peers = (await (await fetch(`${base}/api/peers`)).json()) as PeerRow[];
  assert.deepEqual((await page.evaluate(() => window.ringView.peers())).sort(), peers.map((p) => p.id).sort());
  assert.equal(await page.textContent('#peer-count'), '32');

  // A click on a peer's dot shows its details.
  const target = peers[7]!;
  await clickPeer(page, target.id);
  assert.equal(await page.textContent('#d-id'), target.id);
  assert.equal(await page.textContent('#d-addr'), target.addr);
  assert.equal(await page.textContent('#d-worker'), String(target.worker));
  assert.equal(await page.locator('#d-succ li').count(), 8, 'a full successor list (r = 8)');
  assert.ok((await page.locator('#d-fingers li').count()) >= 1, 'fingers listed');

  // Fingers settle after the successor lists; lookups route over them, so wait for them too.
  await eventually(async () => (await cluster.health(false)).fullyConsistent === 1, { timeoutMs: 60_000, what: 'every finger right' });

  // A lookup through the page has the hop count (and path) `chord lookup --json` reports.
  const entry = peers[20]!;
  const key = 'ring-view-test-key';
  const { stdout } = await promisify(execFile)(process.execPath, [CLI, 'lookup', key, '--via', entry.addr, '--json']);
  const cli = JSON.parse(stdout) as { hops: number; owner: { id: string }; path: Array<{ id: string }> };
  await page.selectOption('#lookup-via', entry.id);
  await page.fill('#lookup-key', key);
  await page.click('#lookup-btn');
  await page.waitForSelector('#lookup-result[data-done="true"]', { timeout: 10_000 });
  assert.equal(Number(await page.textContent('#lookup-hops')), cli.hops, 'hop count shown equals chord lookup --json');
  const shownPath = await page.$$eval('#lookup-path li[data-role="hop"]', (lis) => lis.map((li) => (li as HTMLElement).dataset.id));
  assert.deepEqual(shownPath, cli.path.map((p) => p.id), 'the page lists the peers that answered each step');
  assert.ok((await page.textContent('#lookup-owner'))!.startsWith(cli.owner.id.slice(0, 8)), 'same owner');

  // Crashing the selected peer from the page removes it: from the membership at once, and from
  // every live peer's predecessor and successor list (drawn as grey "ghosts") within a few periods.
  const victim = peers[11]!;
  await clickPeer(page, victim.id);
  const crashedAt = Date.now();
  await page.click('#crash-btn');
  await page.waitForSelector('body[data-peers="31"]', { timeout: 5000 });
  assert.equal((await page.evaluate(() => window.ringView.peers())).includes(victim.id), false);
  await page.waitForFunction((id) => !window.ringView.ghosts().includes(id), victim.id, { timeout: 40 * STABILIZE_MS });
  t.diagnostic(`crashed peer gone from every list after ${Date.now() - crashedAt} ms (stabilize period ${STABILIZE_MS} ms)`);

  // The page's routes answer bad input with a 4xx that says what was wrong.
  const bad = async (path: string, status: number, pattern: RegExp): Promise<void> => {
    const res = await fetch(`${base}${path}`);
    assert.equal(res.status, status, path);
    assert.match(((await res.json()) as { error: string }).error, pattern, path);
  };
  await bad('/api/lookup', 400, /key must be given/);
  await bad(`/api/lookup?key=k&via=${'0'.repeat(40)}`, 404, /not the id or address of a live peer/);
  await bad(`/api/peers/${victim.id}`, 404, /no live peer/);

  const timing = await page.evaluate(() => window.ringView.benchmark(20));
  t.diagnostic(`render of ${timing.peers} peers: median ${timing.median.toFixed(2)} ms`);
  assert.deepEqual(pageErrors, [], 'no script errors on the page');
});

declare global {
  interface Window {
    ringView: {
      peers(): string[];
      ghosts(): string[];
      positionOf(id: string): { x: number; y: number } | null;
      benchmark(n?: number): { median: number; max: number; peers: number; lastUpdateMs: number };
    };
  }
}
