import { afterEach, describe, expect, it } from 'vitest';
import machines from '../../../machines/index.ts';
import { createGatekeeperWithStore } from '../../../src/gatekeeper/gatekeeper.ts';
import { LiveView } from '../../../src/observe/ui/live-view.ts';
import { startUiServer, type UiServer } from '../../../src/observe/ui/ui-server.ts';
import { memoryStore } from '../../../src/store/memory-store.ts';

const cleanup: (() => Promise<unknown>)[] = [];
afterEach(async () => {
  for (const step of cleanup.splice(0).reverse()) await step();
});

async function serve(): Promise<{
  server: UiServer;
  gatekeeper: ReturnType<typeof createGatekeeperWithStore>;
}> {
  const gatekeeper = createGatekeeperWithStore({ machines, store: memoryStore(), sweepIntervalMs: 0 });
  cleanup.push(() => gatekeeper.close());
  const server = await startUiServer({ gatekeeper, port: 0, pushIntervalMs: 10 });
  cleanup.push(() => server.close());
  return { server, gatekeeper };
}

const get = async (server: UiServer, path: string) => fetch(new URL(path, server.url));

describe('ui server', () => {
  it('serves the page, its assets and the machines as ELK-laid-out SVG', async () => {
    const { server } = await serve();
    expect(server.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/$/);
    for (const [path, type] of [
      ['/', 'text/html'],
      ['/app.js', 'text/javascript'],
      ['/app.css', 'text/css'],
    ] as const) {
      const response = await get(server, path);
      expect(response.status, path).toBe(200);
      expect(response.headers.get('content-type')).toContain(type);
    }
    const machinesList = (await (await get(server, '/api/machines')).json()) as {
      aggregate: string;
      svg: string;
    }[];
    expect(machinesList.map((machine) => machine.aggregate)).toEqual(['order', 'customer', 'valve']);
    const order = machinesList[0]?.svg ?? '';
    expect(order.match(/class="state[^"]*" data-state="/g)).toHaveLength(6);
    expect(order.match(/data-transition="/g)).toHaveLength(6);
    expect(order).toMatch(/<path d="M [\d.]+ [\d.]+ L/);
    expect((await get(server, '/nope')).status).toBe(404);
    expect((await fetch(server.url, { method: 'POST' })).status).toBe(405);
  });

  it('answers entity and state queries, and pushes stats over SSE as events are decided', async () => {
    const { server, gatekeeper } = await serve();
    const events = await get(server, '/events');
    expect(events.headers.get('content-type')).toBe('text/event-stream');
    const reader = (events.body as ReadableStream<Uint8Array>).getReader();
    const decoder = new TextDecoder();
    let buffer = '';
    /** Reads pushed frames until one satisfies `match`. */
    const nextStats = async (match: (stats: { decisions: number }) => boolean) => {
      for (;;) {
        const frames = buffer.split('\n\n');
        buffer = frames.pop() ?? '';
        for (const frame of frames) {
          const data = frame.split('\n').find((line) => line.startsWith('data: '));
          if (!data) continue;
          const stats = JSON.parse(data.slice(6)) as { decisions: number };
          if (match(stats)) return stats;
        }
        const { value, done } = await reader.read();
        if (done) throw new Error('event stream ended');
        buffer += decoder.decode(value, { stream: true });
      }
    };
    expect((await nextStats(() => true)).decisions).toBe(0);

    await gatekeeper.handle({
      id: 'o1-2',
      aggregate: 'order',
      key: 'o1',
      seq: 2,
      type: 'order.paid',
      payload: { amount: 4 },
    });
    await gatekeeper.handle({
      id: 'o1-1',
      aggregate: 'order',
      key: 'o1',
      seq: 1,
      type: 'order.placed',
      payload: { total: 4 },
    });
    const stats = (await nextStats((candidate) => candidate.decisions === 3)) as unknown as {
      aggregates: { order: { states: Record<string, number>; entities: number } };
    };
    expect(stats.aggregates.order.states['order.paid']).toBe(1);
    expect(stats.aggregates.order.entities).toBe(1);
    await reader.cancel();

    const state = (await (await get(server, '/api/state?aggregate=order&state=order.paid')).json()) as {
      total: number;
      keys: string[];
    };
    expect(state).toMatchObject({ total: 1, keys: ['o1'] });
    const entity = (await (await get(server, '/api/entity?key=o1')).json()) as {
      matches: {
        aggregate: string;
        state: unknown;
        path: { visited: string[]; steps: { transition: string }[] };
      }[];
    };
    expect(entity.matches).toHaveLength(1);
    expect(entity.matches[0]).toMatchObject({ aggregate: 'order', state: 'paid' });
    expect(entity.matches[0]?.path.visited).toEqual(['order.new', 'order.placed', 'order.paid']);
    expect(entity.matches[0]?.path.steps.map((step) => step.transition)).toEqual([
      'order.new:0',
      'order.placed:0',
    ]);
    const none = (await (await get(server, '/api/entity?key=o1&aggregate=valve')).json()) as {
      matches: unknown[];
    };
    expect(none.matches).toEqual([]);
  });
});

describe('live view', () => {
  it('keeps per-state counts for a bounded number of entities', async () => {
    const gatekeeper = createGatekeeperWithStore({ machines, store: memoryStore(), sweepIntervalMs: 0 });
    cleanup.push(() => gatekeeper.close());
    const live = new LiveView(gatekeeper, 10, 2);
    cleanup.push(() => Promise.resolve(live.close()));
    for (const key of ['v1', 'v2', 'v3']) {
      await gatekeeper.handle({
        id: `${key}-1`,
        aggregate: 'valve',
        key,
        seq: 1,
        type: 'valve.installed',
        payload: { site: 's' },
      });
    }
    await gatekeeper.handle({
      id: 'v1-2',
      aggregate: 'valve',
      key: 'v1',
      seq: 2,
      type: 'valve.opened',
      payload: { flow: 5 },
    });
    const stats = live.snapshot();
    expect(stats.aggregates.valve?.entities).toBe(2);
    expect(stats.aggregates.valve?.states).toMatchObject({ 'valve.closed': 1, 'valve.open': 1 });
    expect(stats.untracked).toBe(1);
    expect(live.entitiesIn('valve', 'valve.open')).toEqual({ total: 1, keys: ['v1'] });
  });
});
