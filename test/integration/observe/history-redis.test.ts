/**
 * History and entity search across processes, on the real Redis: one gatekeeper decides a shuffled
 * stream, a second one (a new connection, as `gatekeeper history --redis` or `gatekeeper ui --redis`
 * would open) reads each entity's bounded history, draws its path and finds it in the web view's API.
 */
import { afterEach, describe, expect, it } from 'vitest';
import machines from '../../../machines/index.ts';
import type { Outcome } from '../../../src/core/outcome.ts';
import { feed } from '../../../src/demo/run-demo.ts';
import { demoStream } from '../../../src/demo/stream.ts';
import { createGatekeeperWithStore, type Gatekeeper } from '../../../src/gatekeeper/gatekeeper.ts';
import { historyMermaid } from '../../../src/observe/history/render-history.ts';
import { startUiServer } from '../../../src/observe/ui/ui-server.ts';
import { redisStore } from '../../../src/store/redis/index.ts';
import { main } from '../../../src/cli/main.ts';
import { captureIO } from '../../support/cli-io.ts';
import { deletePrefixAt, REDIS_URL, uniquePrefix } from '../store/support/redis-servers.ts';

const cleanup: (() => Promise<unknown>)[] = [];
afterEach(async () => {
  for (const step of cleanup.splice(0).reverse()) await step();
});

function gatekeeperOn(prefix: string, historyLimit: number): Gatekeeper {
  const gatekeeper = createGatekeeperWithStore({
    machines,
    store: redisStore({ url: REDIS_URL, prefix, historyLimit }),
    sweepIntervalMs: 0,
  });
  cleanup.push(() => gatekeeper.close());
  return gatekeeper;
}

describe('history on Redis, read by another process', () => {
  it('is bounded, in decision order, and drawable; the web view finds the entity', async () => {
    const prefix = uniquePrefix('observe-history');
    cleanup.push(() => deletePrefixAt(REDIS_URL, prefix));
    const limit = 4;
    const writer = gatekeeperOn(prefix, limit);
    const seen = new Map<string, Outcome[]>();
    writer.subscribe({
      onOutcome: (outcome) => {
        if (outcome.aggregate === null || outcome.key === null || !writer.aggregates.has(outcome.aggregate))
          return;
        const id = `${outcome.aggregate}/${outcome.key}`;
        seen.set(id, [...(seen.get(id) ?? []), outcome]);
      },
    });
    const stream = demoStream({ entities: 80, seed: 5, duplicateRate: 0.3 });
    await feed(writer, stream.inputs);
    await writer.idle();

    const reader = gatekeeperOn(prefix, limit);
    const brief = (entry: { seq: number | null; type: string | null; outcome: string; reason: string }) =>
      `${entry.seq}:${entry.type}:${entry.outcome}:${entry.reason}`;
    let trimmed = 0;
    for (const [id, outcomes] of seen) {
      const [aggregate, key] = id.split('/') as [string, string];
      const history = await reader.history(aggregate, key);
      expect(history.map(brief), id).toEqual(outcomes.slice(-limit).map(brief));
      if (outcomes.length > limit) trimmed += 1;
    }
    expect(trimmed).toBeGreaterThan(5);

    const order = stream.histories.find((events) => events[0]?.aggregate === 'order' && events.length >= 3);
    const key = order?.[0]?.key as string;
    const history = await reader.history('order', key);
    const diagram = historyMermaid(
      writer.aggregates.get('order')!.machine,
      { aggregate: 'order', key },
      history,
    );
    expect(diagram).toMatch(/class [a-z_,]+ current/);

    const ui = await startUiServer({ gatekeeper: reader, port: 0 });
    cleanup.push(() => ui.close());
    const found = (await (await fetch(`${ui.url}api/entity?key=${key}`)).json()) as {
      matches: { aggregate: string; history: unknown[]; state: unknown }[];
    };
    expect(found.matches.map((match) => match.aggregate)).toEqual(['order']);
    expect(found.matches[0]?.history).toHaveLength(history.length);
    expect(found.matches[0]?.state).toEqual((await writer.inspect('order', key))?.state);
  });

  it('gatekeeper history --redis prints what gatekeeper demo --redis decided in another run', async () => {
    const prefix = uniquePrefix('observe-cli');
    cleanup.push(() => deletePrefixAt(REDIS_URL, prefix));
    const store = ['--redis', REDIS_URL, '--redis-prefix', prefix];
    const demo = captureIO();
    expect(await main(['demo', '--entities', '30', '--quiet', ...store], demo)).toBe(0);

    const reader = gatekeeperOn(prefix, 100);
    const key = 'o1';
    const expected = await reader.history('order', key);
    expect(expected.length).toBeGreaterThan(0);
    const json = captureIO();
    expect(await main(['history', 'order', key, '--format', 'json', ...store], json)).toBe(0);
    expect(JSON.parse(json.out())).toEqual(JSON.parse(JSON.stringify(expected)));
    const mermaid = captureIO();
    expect(await main(['history', 'order', key, '--format', 'mermaid', ...store], mermaid)).toBe(0);
    expect(mermaid.out()).toContain('class order_new');
    expect(mermaid.out()).toContain('[1] order.placed');
  });
});
