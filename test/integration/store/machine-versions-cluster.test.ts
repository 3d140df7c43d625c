/**
 * The machine-version scenarios on a Redis Cluster of 3 masters (REDIS_CLUSTER_NODES when set,
 * else one started here): the per-shard versions hashes and the dry run's scan over every master.
 */
import { afterAll, beforeAll, describe } from 'vitest';
import { createGatekeeperWithStore } from '../../../src/gatekeeper/gatekeeper.ts';
import { redisStore } from '../../../src/store/redis/index.ts';
import { versionScenarios } from '../../support/version-scenarios.ts';
import {
  acquireCluster,
  clusterClient,
  deletePrefix,
  uniquePrefix,
  type TestCluster,
} from './support/redis-servers.ts';

let cluster: TestCluster | undefined;
const prefix = uniquePrefix('versions-cluster');

beforeAll(async () => {
  cluster = await acquireCluster();
}, 120_000);
afterAll(async () => {
  if (cluster) {
    const admin = clusterClient(cluster.nodes);
    await deletePrefix(admin, prefix);
    await admin.quit();
  }
  await cluster?.release();
});

describe('machine versions on a Redis Cluster', () => {
  let run = 0;
  versionScenarios(
    (machines) => {
      if (!cluster) throw new Error('the cluster did not start');
      return createGatekeeperWithStore({
        machines,
        store: redisStore({ cluster: { nodes: cluster.nodes }, prefix }),
        sweepIntervalMs: 0,
      });
    },
    () => `c${(run += 1)}-`,
  );
});
