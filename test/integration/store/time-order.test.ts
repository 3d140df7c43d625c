/** Time mode (ordering by event time, with and without a hold) on the memory store, a real Redis and a Redis Cluster. */
import { afterAll, beforeAll, describe } from 'vitest';
import { memoryHarness, redisHarness, standaloneHarness } from './support/harness.ts';
import { acquireCluster, type TestCluster } from './support/redis-servers.ts';
import { defineTimeScenarios } from './support/time-scenarios.ts';

describe.each([memoryHarness(), standaloneHarness()])('time mode on the $name store', (harness) => {
  defineTimeScenarios(harness);
});

describe('time mode on a Redis Cluster', () => {
  let cluster: TestCluster | undefined;
  beforeAll(async () => {
    cluster = await acquireCluster();
  }, 120_000);
  afterAll(async () => {
    await cluster?.release();
  });
  defineTimeScenarios(
    redisHarness('redis cluster', () => {
      if (!cluster) throw new Error('the cluster did not start');
      return { nodes: cluster.nodes };
    }),
    { propertyRuns: 15 },
  );
});
