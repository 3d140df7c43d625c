import { createServer } from 'node:net';
import type { PassThrough } from 'node:stream';
import { afterEach, describe, expect, it } from 'vitest';
import { createInspectorServer } from '@statelyai/inspect/server';
import { WebSocket, WebSocketServer } from 'ws';
import machines from '../../../machines/index.ts';
import { main } from '../../../src/cli/main.ts';
import { createGatekeeperWithStore, type Gatekeeper } from '../../../src/gatekeeper/gatekeeper.ts';
import { connectInspector, stringifySafely, type InspectorConnection } from '../../../src/observe/inspect.ts';
import { memoryStore } from '../../../src/store/memory-store.ts';
import { captureIO } from '../../support/cli-io.ts';

const cleanup: (() => unknown)[] = [];
afterEach(async () => {
  for (const step of cleanup.splice(0).reverse()) await step();
});

interface Received {
  type: string;
  event?: { type?: string };
  snapshot?: { value?: unknown };
  name?: string;
}

/** A local stand-in for Stately's Inspector: collects what arrives and lets a test await a match. */
async function receiver() {
  const server = new WebSocketServer({ host: '127.0.0.1', port: 0 });
  await new Promise<void>((resolve) => server.once('listening', () => resolve()));
  cleanup.push(
    () =>
      new Promise<void>((resolve) => {
        for (const client of server.clients) client.terminate();
        server.close(() => resolve());
      }),
  );
  const received: Received[] = [];
  const waiters: { match: (event: Received) => boolean; resolve: (event: Received) => void }[] = [];
  server.on('connection', (socket) => {
    socket.on('message', (data: Buffer) => {
      const event = JSON.parse(data.toString()) as Received;
      received.push(event);
      for (const waiter of [...waiters]) {
        if (waiter.match(event)) {
          waiters.splice(waiters.indexOf(waiter), 1);
          waiter.resolve(event);
        }
      }
    });
  });
  const { port } = server.address() as { port: number };
  return {
    url: `ws://127.0.0.1:${port}`,
    received,
    next: (match: (event: Received) => boolean) =>
      new Promise<Received>((resolve) => {
        const seen = received.find(match);
        if (seen) resolve(seen);
        else waiters.push({ match, resolve });
      }),
  };
}

/** A port nothing listens on. */
async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

/** An embedded-store gatekeeper whose entities report to `connection`, closed after the test. */
function inspectedGatekeeper(connection: InspectorConnection): Gatekeeper {
  const gatekeeper = createGatekeeperWithStore({
    machines,
    store: memoryStore(),
    sweepIntervalMs: 0,
    inspect: connection.inspect,
  });
  cleanup.push(() => gatekeeper.close());
  return gatekeeper;
}

describe('live inspection', () => {
  it('sends the entity actors’ inspection events to a WebSocket receiver', async () => {
    const inspector = await receiver();
    const connection = connectInspector(inspector.url);
    cleanup.push(() => connection.stop());
    expect(await connection.connected).toBe(true);
    const gatekeeper = inspectedGatekeeper(connection);

    await gatekeeper.handle({
      id: 'o1-1',
      aggregate: 'order',
      key: 'o1',
      seq: 1,
      type: 'order.placed',
      payload: { total: 5 },
    });
    const actor = await inspector.next((event) => event.type === '@xstate.actor');
    const sent = await inspector.next(
      (event) => event.type === '@xstate.event' && event.event?.type === 'order.placed',
    );
    const snapshot = await inspector.next(
      (event) => event.type === '@xstate.snapshot' && event.snapshot?.value === 'placed',
    );
    expect(actor.name).toBe('order');
    expect(sent).toMatchObject({ event: { type: 'order.placed' } });
    expect(snapshot).toMatchObject({ snapshot: { value: 'placed' } });
  });

  it('never blocks when no inspector listens, reports it once, and stops at once', async () => {
    const messages: string[] = [];
    const connection = connectInspector(`ws://127.0.0.1:${await closedPort()}`, {
      retryMs: 60_000,
      onUnavailable: (message) => messages.push(message),
    });
    cleanup.push(() => connection.stop());
    expect(await connection.connected).toBe(false);
    expect(messages).toHaveLength(1);
    expect(messages[0]).toContain('unavailable');
    const gatekeeper = inspectedGatekeeper(connection);
    const result = await gatekeeper.handle({
      id: 'v1-1',
      aggregate: 'valve',
      key: 'v1',
      seq: 1,
      type: 'valve.installed',
      payload: { site: 'a' },
    });
    expect(result.outcome.outcome).toBe('applied');
    await connection.stop();
  });

  it('gatekeeper demo --inspect streams the demo’s actors to the receiver', async () => {
    const inspector = await receiver();
    const io = captureIO();
    const code = await main(['demo', '--entities', '20', '--quiet', '--inspect', inspector.url], io);
    expect(code).toBe(0);
    await inspector.next((event) => event.type === '@xstate.snapshot');
    expect(inspector.received.some((event) => event.type === '@xstate.event')).toBe(true);
  });

  it('gatekeeper check --inspect streams the checked entities to the receiver', async () => {
    const inspector = await receiver();
    const io = captureIO();
    const line = {
      id: 'c1-1',
      aggregate: 'customer',
      key: 'c1',
      seq: 1,
      type: 'customer.created',
      payload: { name: 'A', email: 'a@example.com' },
    };
    (io.stdin as PassThrough).end(`${JSON.stringify(line)}\n`);
    expect(await main(['check', '--machines', 'machines/index.ts', '--inspect', inspector.url], io)).toBe(0);
    expect(io.out()).toContain('"outcome":"applied"');
    await inspector.next(
      (event) => event.type === '@xstate.event' && event.event?.type === 'customer.created',
    );
  });

  it('works with Stately’s own relay (createInspectorServer), as the Inspector page would receive it', async () => {
    const port = await closedPort();
    const relay = createInspectorServer({ port, autoOpen: false });
    cleanup.push(() => relay.stop());
    // The bridge page's side: a WebSocket client of the relay.
    const page = new WebSocket(`ws://127.0.0.1:${port}`);
    cleanup.push(() => page.terminate());
    await new Promise<void>((resolve, reject) => {
      page.once('open', () => resolve());
      page.once('error', reject);
    });
    const closedSnapshot = new Promise<Received>((resolve) => {
      page.on('message', (data: Buffer) => {
        const event = JSON.parse(data.toString()) as Received;
        if (event.type === '@xstate.snapshot' && event.snapshot?.value === 'closed') resolve(event);
      });
    });
    const connection = connectInspector(`ws://127.0.0.1:${port}`);
    cleanup.push(() => connection.stop());
    expect(await connection.connected).toBe(true);
    const gatekeeper = inspectedGatekeeper(connection);
    await gatekeeper.handle({
      id: 'v9-1',
      aggregate: 'valve',
      key: 'v9',
      seq: 1,
      type: 'valve.installed',
      payload: { site: 'x' },
    });
    expect(await closedSnapshot).toMatchObject({ type: '@xstate.snapshot', snapshot: { value: 'closed' } });
  });

  it('serialises cyclic and deep values without throwing', () => {
    const cyclic: Record<string, unknown> = { a: 1 };
    cyclic.self = cyclic;
    expect(JSON.parse(stringifySafely({ cyclic, fn: function named() {} }))).toEqual({
      cyclic: { a: 1, self: '[Circular]' },
      fn: { type: 'named' },
    });
  });
});
