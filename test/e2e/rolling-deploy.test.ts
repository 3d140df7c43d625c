/**
 * A rolling deploy through the real CLI: `gatekeeper run` processes in one consumer group on one
 * Redis, first all on v1 of the ticket machine, then one replaced by v2 (state `assigned` renamed
 * `inProgress`, with its migration) while a v1 member joins and leaves again so partitions move
 * between the versions, then the last v1 member replaced, all during a shuffled, duplicated
 * stream. Afterwards: no entity committed under v2 was ever decided under v1 (its history shows v1
 * only buffering or discarding past it), no event was lost (every event id applied exactly once,
 * in seq order, and published), and every entity is where in-order processing under v2 puts it.
 */
import { rmSync } from 'node:fs';
import { dirname } from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { createGatekeeperWithStore, type Gatekeeper } from '../../src/gatekeeper/gatekeeper.ts';
import { Random } from '../../src/demo/random.ts';
import { memoryStore } from '../../src/store/memory-store.ts';
import { redisStore } from '../../src/store/redis/index.ts';
import rollingV2 from '../fixtures/versions/rolling-v2.ts';
import {
  eventMessage,
  produce,
  readTopic,
  sharedBroker,
  topicSize,
  type Broker,
} from '../integration/kafka/support/kafka.ts';
import {
  startGatekeeper,
  writeConfig,
  type GatekeeperProcess,
} from '../integration/kafka/support/processes.ts';
import { setUp, waitFor, waitUntilCaughtUp, type TestSetup } from '../integration/kafka/support/runtime.ts';
import { REDIS_URL } from '../integration/store/support/redis-servers.ts';
import { sequenced } from '../support/events.ts';

const ENTITIES = 600;
const STEPS = ['ticket.opened', 'ticket.assigned', 'ticket.resolved', 'ticket.closed'] as const;

let broker: Broker;
let setup: TestSetup | undefined;
const processes: GatekeeperProcess[] = [];
const configFiles: string[] = [];

beforeAll(async () => {
  broker = await sharedBroker();
}, 600_000);
afterAll(async () => {
  for (const process of processes) process.kill('SIGKILL');
  for (const file of configFiles) rmSync(dirname(file), { recursive: true, force: true });
  try {
    await setup?.cleanup();
  } finally {
    await broker.stop();
  }
}, 120_000);

/** Entity k<i> gets the first 2, 3 or 4 steps; the inputs are every event, 15% twice, shuffled. */
function rollingStream() {
  const histories = Array.from({ length: ENTITIES }, (_, i) => {
    const at = sequenced('ticket', `k${i}`);
    return STEPS.slice(0, 2 + (i % 3)).map((type, index) =>
      at(index + 1, type, type === 'ticket.assigned' ? { to: `agent-${i % 7}` } : {}),
    );
  });
  const random = new Random(12);
  const inputs = histories.flat().flatMap((event) => (random.chance(0.15) ? [event, { ...event }] : [event]));
  return { histories, inputs: random.shuffle(inputs) };
}

/** Where in-order processing under v2 leaves each entity. */
async function expectedUnderV2(histories: ReturnType<typeof rollingStream>['histories']) {
  const gatekeeper = createGatekeeperWithStore({
    machines: rollingV2,
    store: memoryStore(),
    sweepIntervalMs: 0,
  });
  const states = new Map<string, unknown>();
  for (const history of histories) {
    for (const event of history) await gatekeeper.handle(structuredClone(event));
    const key = history[0]?.key as string;
    states.set(key, (await gatekeeper.inspect('ticket', key))?.state);
  }
  await gatekeeper.close();
  return states;
}

it('a rolling deploy from v1 to v2 across processes: no v2 entity decided under v1, nothing lost, every entity where in-order v2 puts it', async () => {
  const { histories, inputs } = rollingStream();
  const expected = await expectedUnderV2(histories);
  const messages = inputs.map(eventMessage);
  setup = await setUp(broker.brokers, 'rolling', 6);
  const limits = { sessionTimeoutMs: 8_000, heartbeatIntervalMs: 1_000, relayIdleMs: 50, maxInFlight: 50 };
  const v1 = writeConfig(setup.config({ machines: 'test/fixtures/versions/rolling-v1.ts', limits }));
  const v2 = writeConfig(setup.config({ machines: 'test/fixtures/versions/rolling-v2.ts', limits }));
  configFiles.push(v1, v2);
  const start = (name: string, config: string) => {
    const started = startGatekeeper(name, config);
    processes.push(started);
    return started;
  };
  const stop = async (process: GatekeeperProcess) => {
    process.kill('SIGTERM');
    expect((await process.exited).code, process.log()).toBe(0);
  };
  const third = Math.ceil(messages.length / 3);
  const producePaced = async (from: number, to: number, pauseMs = 100) => {
    for (let at = from; at < to; at += 30) {
      await produce(setup!.brokers, setup!.input, messages.slice(at, Math.min(at + 30, to)));
      await new Promise((resolve) => setTimeout(resolve, pauseMs));
    }
  };

  // All on v1.
  const a = start('a-v1', v1);
  const b = start('b-v1', v1);
  await Promise.all([a.consuming, b.consuming]);
  await producePaced(0, third);
  await waitUntilCaughtUp(setup, third);

  // b is upgraded; while a v1 member joins and leaves again, partitions move between versions.
  await stop(b);
  const b2 = start('b-v2', v2);
  await b2.consuming;
  const phase2 = producePaced(third, 2 * third, 250);
  await new Promise((resolve) => setTimeout(resolve, 1_000));
  const c = start('c-v1', v1);
  await c.consuming;
  // c leaves again while the phase still produces: one more rebalance across versions.
  await new Promise((resolve) => setTimeout(resolve, 3_000));
  await stop(c);
  await phase2;
  await waitUntilCaughtUp(setup, Math.min(2 * third, messages.length));

  // a is upgraded: both members run v2.
  await stop(a);
  const a2 = start('a-v2', v2);
  await a2.consuming;
  await producePaced(2 * third, messages.length);
  await waitUntilCaughtUp(setup, messages.length, 150_000);

  // The namespace `gatekeeper run` made (one shard per input partition), its layout read first.
  const checkerStore = redisStore({ url: REDIS_URL, prefix: setup.prefix, recordedLayout: true });
  await checkerStore.ready();
  const checker: Gatekeeper = createGatekeeperWithStore({
    machines: rollingV2,
    store: checkerStore,
    sweepIntervalMs: 0,
  });
  try {
    // The v2 members' sweepers release what v1 held for them.
    await waitFor('no held entity left', async () => (await checker.attention()).length === 0, 30_000);
    let heldByV1 = 0;
    for (const history of histories) {
      const key = history[0]?.key as string;
      const inspection = await checker.inspect('ticket', key);
      expect(inspection?.state, key).toEqual(expected.get(key));
      expect(inspection?.lastSeq, key).toBe(history.length);
      expect(inspection?.held, key).toBeUndefined();
      const entries = await checker.history('ticket', key);
      const appliedIds = entries.filter((entry) => entry.outcome === 'applied').map((entry) => entry.id);
      expect(appliedIds, key).toEqual(history.map((event) => event.id));
      const firstV2 = entries.findIndex((entry) => entry.machineVersion === '2');
      const afterV2 = firstV2 === -1 ? [] : entries.slice(firstV2);
      // After v2 committed the entity, v1 only buffered (held) or discarded past events.
      const decidedByV1 = afterV2.filter(
        (entry) =>
          entry.machineVersion === '1' && entry.outcome !== 'buffered' && entry.outcome !== 'discarded',
      );
      expect(decidedByV1, key).toEqual([]);
      heldByV1 += afterV2.filter(
        (entry) => entry.machineVersion === '1' && entry.reason === 'entity-held',
      ).length;
    }
    const output = await readTopic(setup.brokers, setup.output);
    const published = new Set(
      output.map((record) => (JSON.parse(record.value ?? '{}') as { id?: string }).id),
    );
    for (const event of histories.flat()) expect(published.has(event.id), event.id).toBe(true);
    expect(await topicSize(setup.brokers, setup.deadLetter)).toBe(0);
    const logs = processes.map((process) => process.log()).join('\n');
    console.log(
      `rolling deploy: ${messages.length} records for ${ENTITIES} entities; v1 held ${heldByV1} event(s) of entities committed under v2; ` +
        `${(logs.match(/newer-version/g) ?? []).length} newer-version holds logged`,
    );
    expect(heldByV1).toBeGreaterThan(0);
  } finally {
    await checker.close();
  }
  await Promise.all([stop(b2), stop(a2)]);
}, 300_000);
