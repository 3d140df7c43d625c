/**
 * Store harnesses: one way to get "the store of this test" for the memory store, a standalone Redis
 * and a Redis Cluster, so the same scenarios run against each. Within one test, every `open()` of
 * a Redis harness is a new client on the same prefix (two gatekeepers = two connections to the
 * same data); the memory harness hands out the one shared instance.
 */
import { Redis, type Cluster } from 'ioredis';
import type { EntityStore } from '../../../../src/store/entity-store.ts';
import { memoryStore } from '../../../../src/store/memory-store.ts';
import { redisStore, type RedisStoreOptions } from '../../../../src/store/redis/index.ts';
import { clusterClient, deletePrefix, REDIS_URL, uniquePrefix } from './redis-servers.ts';

export interface StoreSettings {
  outbox?: boolean;
  historyLimit?: number;
}

export interface StoreHarness {
  readonly name: string;
  /** A store on this test's data; Redis harnesses open a new connection each time. */
  open(settings?: StoreSettings): EntityStore;
  /** Called before each test. */
  begin(testName: string): void;
  /** Closes what `open` created and deletes the test's keys. */
  end(): Promise<void>;
}

export function memoryHarness(): StoreHarness {
  let store: EntityStore | undefined;
  return {
    name: 'memory',
    open(settings = {}) {
      store ??= memoryStore({
        outbox: settings.outbox ?? true,
        ...(settings.historyLimit === undefined ? {} : { historyLimit: settings.historyLimit }),
      });
      return store;
    },
    begin() {
      store = undefined;
    },
    end() {
      store = undefined;
      return Promise.resolve();
    },
  };
}

/** A harness over a standalone Redis URL (`target: url`) or cluster seed nodes (`target: nodes`). */
export function redisHarness(
  name: string,
  target: () => { url: string } | { nodes: string[] },
  extra: RedisStoreOptions = {},
): StoreHarness {
  let prefix = '';
  let opened: EntityStore[] = [];
  return {
    name,
    open(settings = {}) {
      const where = target();
      const store = redisStore({
        ...('url' in where ? { url: where.url } : { cluster: { nodes: where.nodes } }),
        prefix,
        outbox: settings.outbox ?? true,
        ...(settings.historyLimit === undefined ? {} : { historyLimit: settings.historyLimit }),
        ...extra,
      });
      opened.push(store);
      return store;
    },
    begin(testName) {
      prefix = uniquePrefix(testName.replace(/[^a-z0-9]+/gi, '-').slice(0, 40));
      opened = [];
    },
    async end() {
      await Promise.all(opened.map((store) => store.close()));
      const where = target();
      const admin: Redis | Cluster = 'url' in where ? new Redis(where.url) : clusterClient(where.nodes);
      try {
        await deletePrefix(admin, prefix);
      } finally {
        await admin.quit();
      }
    },
  };
}

export function standaloneHarness(): StoreHarness {
  return redisHarness('redis', () => ({ url: REDIS_URL }));
}
