import { defineConfig } from 'vitest/config';

// Integration and e2e tests talk to the real Redis and Kafka that scripts/test.sh starts; they
// read REDIS_URL, REDIS_CLUSTER_NODES and KAFKA_BROKERS from the environment.
export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    testTimeout: 30_000,
    hookTimeout: 120_000,
    pool: 'forks',
    reporters: ['default'],
  },
});
