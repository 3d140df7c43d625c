/**
 * The same scenarios on a Redis Cluster of 3 masters: REDIS_CLUSTER_NODES when set, otherwise one
 * started here through scripts/redis/start-redis-cluster.sh (and stopped afterwards).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import machines from '../../../machines/index.ts';
import { createGatekeeper } from '../../../src/index.ts';
import { redisStore } from '../../../src/store/redis/index.ts';
import { defineDecisionScenarios } from './support/decision-scenarios.ts';
import { redisHarness } from './support/harness.ts';
import { defineHostileInputScenarios } from './support/hostile-scenarios.ts';
import { killedAndRestarted, twoProcessesOneStream } from './support/process-scenarios.ts';
import {
  acquireCluster,
  clusterClient,
  deletePrefix,
  uniquePrefix,
  type TestCluster,
} from './support/redis-servers.ts';

let cluster: TestCluster | undefined;
const nodes = () => {
  if (!cluster) throw new Error('the cluster did not start');
  return cluster.nodes;
};

beforeAll(async () => {
  cluster = await acquireCluster();
}, 120_000);
afterAll(async () => {
  await cluster?.release();
});

const harness = redisHarness('redis cluster', () => ({ nodes: nodes() }));

describe('decisions on a Redis Cluster', () => {
  defineDecisionScenarios(harness, { propertyRuns: 20 });
});

describe('hostile input on a Redis Cluster', () => {
  defineHostileInputScenarios(harness);
});

describe('processes on a Redis Cluster', () => {
  const prefixes: string[] = [];
  afterAll(async () => {
    const admin = clusterClient(nodes());
    for (const prefix of prefixes) await deletePrefix(admin, prefix);
    await admin.quit();
  });

  it('spreads the shards of one namespace over all three masters, each entity whole on one of them', async () => {
    const prefix = uniquePrefix('spread');
    prefixes.push(prefix);
    const store = redisStore({ cluster: { nodes: nodes() }, prefix });
    const gk = createGatekeeper({ machines, store, sweepIntervalMs: 0 });
    for (let i = 0; i < 64; i += 1) {
      await gk.handle({
        id: `o${i}-1`,
        aggregate: 'order',
        key: `o${i}`,
        seq: 1,
        type: 'order.placed',
        payload: { total: 1 },
      });
      await gk.handle({
        id: `o${i}-3`,
        aggregate: 'order',
        key: `o${i}`,
        seq: 3,
        type: 'order.shipped',
        payload: {},
      });
    }
    await gk.close();
    const admin = clusterClient(nodes());
    await admin.ping();
    const tagsPerMaster = await Promise.all(
      admin.nodes('master').map(async (node) => {
        const [, keys] = await node.scan('0', 'MATCH', `{${prefix}:*`, 'COUNT', 100_000);
        return new Set(keys.map((key) => key.slice(0, key.indexOf('}') + 1)));
      }),
    );
    await admin.quit();
    expect(tagsPerMaster.filter((tags) => tags.size > 0)).toHaveLength(3);
    // A shard (hash tag) lives on exactly one master: its entities, outbox and indexes together.
    const all = tagsPerMaster.flatMap((tags) => [...tags]);
    expect(new Set(all).size).toBe(all.length);
    expect(all.length).toBe(16);
  });

  it('decides hundreds of events at once over every shard: loads and commits of equal batch sizes on different masters never share a pipeline', async () => {
    const prefix = uniquePrefix('concurrent');
    prefixes.push(prefix);
    const store = redisStore({ cluster: { nodes: nodes() }, prefix, outbox: true });
    const gk = createGatekeeper({ machines, store, sweepIntervalMs: 0 });
    // 200 entities of one event each, all in flight at once: every turn's load and commit batches
    // have the same few sizes across the 16 shards (once grouped by their key count, not a key).
    const events = Array.from({ length: 200 }, (_, i) => ({
      id: `c${i}-1`,
      aggregate: 'order',
      key: `c${i}`,
      seq: 1,
      type: 'order.placed',
      payload: { total: i + 1 },
    }));
    const results = await Promise.all(events.map((event) => gk.handle(event)));
    expect(results.map((result) => result.outcome.outcome)).toEqual(events.map(() => 'applied'));
    await gk.close();
  });

  it('two processes fed the same shuffled stream concurrently end with the in-order states and each transition in the outbox once', async () => {
    const prefix = uniquePrefix('cluster-fencing');
    prefixes.push(prefix);
    await twoProcessesOneStream({ nodes: nodes() }, prefix, 400);
  }, 120_000);

  it('a process killed with SIGKILL at random moments and restarted ends with the in-order states and no transition twice', async () => {
    const prefix = uniquePrefix('cluster-crash');
    prefixes.push(prefix);
    await killedAndRestarted({ nodes: nodes() }, prefix, 800, 3);
  }, 180_000);
});
