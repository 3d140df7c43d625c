/** Per-test names, Redis prefixes and an in-process runner for the Kafka integration tests. */
import { afterAll, afterEach, beforeAll } from 'vitest';
import {
  runGatekeeper,
  type RunConfigInput,
  type RunningGatekeeper,
  type RunOptions,
} from '../../../../src/kafka/index.ts';
import { deletePrefixAt, REDIS_URL, uniquePrefix } from '../../store/support/redis-servers.ts';
import {
  committedTotal,
  createTopics,
  deleteTopics,
  sharedBroker,
  topicSize,
  uniqueName,
  type Broker,
} from './kafka.ts';

export interface TestSetup {
  brokers: string;
  input: string;
  output: string;
  deadLetter: string;
  group: string;
  prefix: string;
  config(overrides?: Partial<RunConfigInput>): RunConfigInput;
  start(overrides?: Partial<RunConfigInput>, options?: RunOptions): Promise<RunningGatekeeper>;
  /** Stops what `start` started, deletes the topics and the Redis keys. */
  cleanup(): Promise<void>;
}

export async function setUp(brokers: string, name: string, partitions = 3): Promise<TestSetup> {
  const input = uniqueName(`${name}-in`);
  const output = uniqueName(`${name}-out`);
  const deadLetter = uniqueName(`${name}-dead`);
  const group = uniqueName(`${name}-group`);
  const prefix = uniquePrefix(name);
  await createTopics(brokers, [input, output, deadLetter], partitions);
  const started: RunningGatekeeper[] = [];
  const config = (overrides: Partial<RunConfigInput> = {}): RunConfigInput => ({
    machines: 'machines/index.ts',
    brokers,
    groupId: group,
    clientId: `gk-${name}`,
    topics: { input: [input], output, deadLetter },
    redis: { url: REDIS_URL, prefix },
    // Exactly-once is the default with Redis; the tests written for at-least-once (plain sends,
    // duplicates dropped by header, whole-topic reads up to the high watermark) keep it, and the
    // exactly-once tests ask for it.
    delivery: 'at-least-once',
    limits: { sessionTimeoutMs: 10_000, heartbeatIntervalMs: 1_000, relayIdleMs: 50 },
    ...overrides,
  });
  return {
    brokers,
    input,
    output,
    deadLetter,
    group,
    prefix,
    config,
    async start(overrides, options) {
      const running = await runGatekeeper(config(overrides), options);
      started.push(running);
      return running;
    },
    async cleanup() {
      await Promise.all(started.map((running) => running.stop().catch(() => undefined)));
      await deleteTopics(brokers, [input, output, deadLetter]);
      await deletePrefixAt(REDIS_URL, prefix);
    },
  };
}

/**
 * Registers the hooks a broker-backed test file (or describe block) needs: the shared broker for
 * its tests, and after each test the cleanup of every setup it made. Returns `setUp` on that
 * broker. After-hooks run last-registered first: register hooks that must run after the cleanup
 * (e.g. destroying a test's own Redis) before calling this.
 */
export function useSharedBroker(): (name: string, partitions?: number) => Promise<TestSetup> {
  let broker: Broker | undefined;
  const made: TestSetup[] = [];
  beforeAll(async () => {
    broker = await sharedBroker();
  }, 600_000);
  afterAll(async () => {
    await broker?.stop();
  });
  afterEach(async () => {
    for (const setup of made.splice(0)) await setup.cleanup();
  });
  return async (name, partitions) => {
    if (!broker) throw new Error('useSharedBroker: set up inside a test, once the broker has started');
    const setup = await setUp(broker.brokers, name, partitions);
    made.push(setup);
    return setup;
  };
}

/** Polls `check` every 100 ms until it returns true; fails after `timeoutMs` with `what`. */
export async function waitFor(
  what: string,
  check: () => Promise<boolean>,
  timeoutMs = 60_000,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (await check()) return;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

/** Waits until the group has committed every input record and both relays' topics stopped growing. */
export async function waitUntilCaughtUp(setup: TestSetup, total: number, timeoutMs = 90_000): Promise<void> {
  await waitFor(
    `group ${setup.group} to commit ${total} records`,
    async () => (await committedTotal(setup.brokers, setup.group, setup.input)) >= total,
    timeoutMs,
  );
}

export async function outputSizes(setup: TestSetup): Promise<{ output: number; deadLetters: number }> {
  const [output, deadLetters] = await Promise.all([
    topicSize(setup.brokers, setup.output),
    topicSize(setup.brokers, setup.deadLetter),
  ]);
  return { output, deadLetters };
}
