/**
 * The web view in a real headless Chromium (Debian's package, driven by playwright-core; run
 * scripts/ensure-chromium.sh first — no browser is ever downloaded): the machines are drawn, the
 * counts per state match the entities' real states, searching an entity highlights its path and
 * lists its history, and the page updates live as more events are decided.
 */
import { existsSync, mkdirSync } from 'node:fs';
import { chromium, type Browser, type Locator, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import machines from '../../machines/index.ts';
import { activeLeafIds } from '../../src/core/topology.ts';
import type { StateValue } from '../../src/core/outcome.ts';
import { feed } from '../../src/demo/run-demo.ts';
import { demoStream } from '../../src/demo/stream.ts';
import { createGatekeeperWithStore, type Gatekeeper } from '../../src/gatekeeper/gatekeeper.ts';
import { entityPath } from '../../src/observe/history/entity-path.ts';
import { startUiServer, type UiServer } from '../../src/observe/ui/ui-server.ts';
import { memoryStore } from '../../src/store/memory-store.ts';

const CHROMIUM = '/usr/bin/chromium';
const RESULTS = new URL('../../test-results/', import.meta.url);

let gatekeeper: Gatekeeper;
let server: UiServer;
let browser: Browser | undefined;
let page: Page;
let stream: ReturnType<typeof demoStream>;

beforeAll(async () => {
  if (!existsSync(CHROMIUM)) throw new Error(`${CHROMIUM} is missing: run scripts/ensure-chromium.sh`);
  gatekeeper = createGatekeeperWithStore({ machines, store: memoryStore(), sweepIntervalMs: 0 });
  server = await startUiServer({ gatekeeper, port: 0, pushIntervalMs: 50 });
  stream = demoStream({ entities: 150, seed: 11 });
  await feed(gatekeeper, stream.inputs);
  await gatekeeper.idle();
  browser = await chromium.launch({
    executablePath: CHROMIUM,
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking'],
  });
  page = await browser.newPage({ viewport: { width: 1400, height: 1000 } });
  const errors: string[] = [];
  page.on('pageerror', (error) => errors.push(error.message));
  await page.goto(server.url);
  await page.waitForSelector('body[data-ready="true"]');
  expect(errors).toEqual([]);
});

afterAll(async () => {
  await browser?.close();
  await server?.close();
  await gatekeeper?.close();
});

/** Entities per leaf state, from the gatekeeper itself (every key any record named). */
async function expectedCounts(): Promise<Map<string, number>> {
  const counts = new Map<string, number>();
  const seen = new Set<string>();
  for (const input of stream.inputs) {
    const { aggregate, key } = (input ?? {}) as { aggregate?: unknown; key?: unknown };
    if (typeof aggregate !== 'string' || typeof key !== 'string' || !gatekeeper.aggregates.has(aggregate))
      continue;
    if (seen.has(`${aggregate}/${key}`)) continue;
    seen.add(`${aggregate}/${key}`);
    const machine = gatekeeper.aggregates.get(aggregate)?.machine;
    const state: StateValue = (await gatekeeper.inspect(aggregate, key))?.state ?? 'new';
    for (const leaf of activeLeafIds(machine!, state)) counts.set(leaf, (counts.get(leaf) ?? 0) + 1);
  }
  return counts;
}

const countOn = (state: string) => page.locator(`[data-count="${state}"]`).textContent();

/** One attribute of every element a locator matches, in document order. */
async function attributes(locator: Locator, name: string): Promise<(string | null)[]> {
  const values: (string | null)[] = [];
  for (let i = 0; i < (await locator.count()); i += 1) values.push(await locator.nth(i).getAttribute(name));
  return values;
}

/** Resolves when the page shows `count` entities in `state` (checked in the browser on every frame). */
function waitForCount(state: string, count: number) {
  return page.waitForFunction(
    `document.querySelector('[data-count="${state}"]')?.textContent === '${count}'`,
  );
}

describe('gatekeeper ui in Chromium', () => {
  it('draws every machine with ELK and shows the entities per state', async () => {
    expect(await page.locator('svg.machine').count()).toBe(3);
    expect(
      await page.locator('svg.machine[data-aggregate="order"] .state[data-state="order.delivered"]').count(),
    ).toBe(1);
    expect(await page.locator('svg.machine[data-aggregate="order"] .edge[data-transition]').count()).toBe(6);
    await page.waitForSelector('#live.on');
    for (const [state, count] of await expectedCounts())
      expect(await countOn(state), state).toBe(String(count));
    const live = server.live.snapshot();
    expect(await page.locator('[data-total="decisions"]').textContent()).toBe(String(live.decisions));
    expect(
      await page.locator('.machine-card[data-aggregate="customer"] [data-figure="parked"]').textContent(),
    ).toBe(String((await gatekeeper.parked()).filter((ref) => ref.aggregate === 'customer').length));
  });

  it('highlights a searched entity’s path and lists its history', async () => {
    // The order with the longest path whose events arrived out of order.
    let chosen: { key: string; length: number } | undefined;
    for (const events of stream.histories) {
      const first = events[0];
      if (first?.aggregate !== 'order') continue;
      const history = await gatekeeper.history('order', first.key);
      if (!history.some((entry) => entry.outcome === 'buffered')) continue;
      if (!chosen || events.length > chosen.length) chosen = { key: first.key, length: events.length };
    }
    expect(chosen).toBeDefined();
    const key = (chosen as { key: string }).key;
    const history = await gatekeeper.history('order', key);
    const path = entityPath(gatekeeper.aggregates.get('order')!.machine, history);

    await page.fill('#search-key', key);
    await page.click('#search button');
    await page.waitForSelector('#entity:not([hidden])');
    expect(await page.locator('#entity-title').textContent()).toBe(`order / ${key}`);

    const card = page.locator('.machine-card[data-aggregate="order"]');
    const highlighted = await attributes(card.locator('.state.visited, .state.current'), 'data-state');
    expect(new Set(highlighted)).toEqual(new Set(path.visited));
    const current = await attributes(card.locator('.state.current'), 'data-state');
    expect(current).toEqual(path.current);
    const takenEdges = card.locator('.edge.taken');
    const taken: string[] = [];
    for (let i = 0; i < (await takenEdges.count()); i += 1) {
      const edge = takenEdges.nth(i);
      taken.push(
        `${await edge.getAttribute('data-transition')} ${await edge.locator('.edge-steps').textContent()}`,
      );
    }
    // The demo's orders never revisit a transition, so each taken edge carries one step number.
    expect(taken.sort()).toEqual(path.steps.map((step) => `${step.transition?.id} #${step.step}`).sort());
    expect(path.steps.length).toBeGreaterThanOrEqual(3);
    expect(await page.locator('#history tbody tr').count()).toBe(history.length);
    expect(await page.locator('#history tbody td.outcome-buffered').count()).toBeGreaterThan(0);

    mkdirSync(RESULTS, { recursive: true });
    await page.screenshot({ path: new URL('ui-entity.png', RESULTS).pathname, fullPage: true });
  });

  it('lists the entities in a clicked state; a listed key opens that entity', async () => {
    await page.click('svg.machine[data-aggregate="order"] .state[data-state="order.delivered"]');
    await page.waitForSelector('#state-list:not([hidden])');
    const { total, keys } = server.live.entitiesIn('order', 'order.delivered');
    expect(await page.locator('#state-list-title').textContent()).toContain(
      `${total} order entities in delivered`,
    );
    expect(await attributes(page.locator('#state-list-keys button.key'), 'data-key')).toEqual(keys);
    const first = keys[0] as string;
    await page.click(`#state-list-keys button.key[data-key="${first}"]`);
    await page.waitForFunction(`document.querySelector('#entity-title')?.textContent === 'order / ${first}'`);
    expect(
      await attributes(page.locator('.machine-card[data-aggregate="order"] .state.current'), 'data-state'),
    ).toEqual(['order.delivered']);
  });

  it('lists parked entities under “Needs attention”', async () => {
    // A customer whose first event is illegal is parked (the customer aggregate's policy).
    await gatekeeper.handle({
      id: 'park-1',
      aggregate: 'customer',
      key: 'c-parked',
      seq: 1,
      type: 'customer.activated',
      payload: {},
    });
    await server.live.refreshFromStore();
    await page.waitForSelector('#attention-parked button.key[data-key="c-parked"]');
    expect(await page.locator('#attention').isVisible()).toBe(true);
    const parked = (await gatekeeper.parked()).map((ref) => `${ref.aggregate}/${ref.key}`);
    expect(await page.locator('#attention-parked button.key').allTextContents()).toEqual(parked.slice(0, 20));
  });

  it('updates live while events are decided', async () => {
    const before = Number(await countOn('order.placed'));
    await gatekeeper.handle({
      id: 'live-1',
      aggregate: 'order',
      key: 'live-order',
      seq: 1,
      type: 'order.placed',
      payload: { total: 9 },
    });
    await waitForCount('order.placed', before + 1);
    await gatekeeper.handle({
      id: 'live-2',
      aggregate: 'order',
      key: 'live-order',
      seq: 2,
      type: 'order.paid',
      payload: { amount: 9 },
    });
    await waitForCount('order.placed', before);
    expect(await page.locator('[data-total="decisions"]').textContent()).toBe(
      String(server.live.snapshot().decisions),
    );
    await page.screenshot({ path: new URL('ui-live.png', RESULTS).pathname, fullPage: true });
  });
});
