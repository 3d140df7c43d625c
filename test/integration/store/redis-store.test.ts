/**
 * What only the Redis store promises: its key layout in a real Redis, one script call per decision
 * (shared by the decisions of one shard made in the same turn),
 * the namespace check, final-entity expiry, connection options and client ownership. Plus the
 * hostile-input scenarios on the memory store and on Redis.
 */
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { Redis } from 'ioredis';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import machines from '../../../machines/index.ts';
import { createGatekeeper, InvalidConfigError, StoreUnavailableError } from '../../../src/index.ts';
import type { EntityCommit } from '../../../src/store/entity-store.ts';
import { redisStore, type RedisStore, type RedisStoreOptions } from '../../../src/store/redis/index.ts';
import { scriptSource } from '../../../src/store/redis/scripts.ts';
import { memoryHarness, standaloneHarness } from './support/harness.ts';
import { defineHostileInputScenarios, HOSTILE_KEYS } from './support/hostile-scenarios.ts';
import {
  deletePrefix,
  freePort,
  makeTlsFiles,
  REDIS_URL,
  startOwnRedis,
  startSentinel,
  uniquePrefix,
  type OwnRedis,
} from './support/redis-servers.ts';

describe.each([memoryHarness(), standaloneHarness()])('hostile input on the $name store', (harness) => {
  defineHostileInputScenarios(harness);
});

/** From now on, the name of every command the store's client sends is pushed onto the returned list. */
function recordCommandNames(store: RedisStore): string[] {
  const sent: string[] = [];
  const original = store.client.sendCommand.bind(store.client);
  store.client.sendCommand = ((command: { name: string }, ...rest: unknown[]) => {
    sent.push(command.name);
    return (original as (...args: unknown[]) => unknown)(command, ...rest);
  }) as typeof store.client.sendCommand;
  return sent;
}

describe('the Redis store in a real Redis', () => {
  let admin: Redis;
  let prefix = '';
  let stores: RedisStore[] = [];
  const open = (options: RedisStoreOptions = {}) => {
    const store = redisStore({ url: REDIS_URL, prefix, outbox: true, ...options });
    stores.push(store);
    return store;
  };
  const keysOf = async () => {
    const found: string[] = [];
    let cursor = '0';
    do {
      const [next, keys] = await admin.scan(cursor, 'MATCH', '*', 'COUNT', 10_000);
      found.push(...keys.filter((key) => key.includes(prefix)));
      cursor = next;
    } while (cursor !== '0');
    return found;
  };

  beforeAll(() => {
    admin = new Redis(REDIS_URL);
  });
  afterAll(async () => {
    await admin.quit();
  });
  beforeEach((context) => {
    prefix = uniquePrefix(context.task.name.slice(0, 20).replace(/\W+/g, '-'));
    stores = [];
  });
  afterEach(async () => {
    await Promise.all(stores.map((store) => store.close()));
    await deletePrefix(admin, prefix);
  });

  it('gives each hostile key its own keys, all inside the namespace and its shard hash tag', async () => {
    const store = open();
    const gk = createGatekeeper({ machines, store, sweepIntervalMs: 0 });
    for (const [index, key] of HOSTILE_KEYS.entries()) {
      await gk.handle({
        id: `p-${index}`,
        aggregate: 'order',
        key,
        seq: 1,
        type: 'order.placed',
        payload: { total: 1 },
      });
    }
    const keys = await keysOf();
    expect(keys.filter((key) => !key.startsWith(`{${prefix}:`) && key !== `{${prefix}}:meta`)).toEqual([]);
    expect(keys.filter((key) => !/^\{[^{}]+:\d+\}:/.test(key) && key !== `{${prefix}}:meta`)).toEqual([]);
    expect(keys.filter((key) => /^\{[^{}]+\}:e:/.test(key))).toHaveLength(HOSTILE_KEYS.length);
    expect(keys.filter((key) => /^\{[^{}]+\}:h:/.test(key))).toHaveLength(HOSTILE_KEYS.length);
    await gk.close();
  });

  it('writes a decision on a resident entity with exactly one Redis command: the commit script', async () => {
    const store = open();
    const gk = createGatekeeper({ machines, store, sweepIntervalMs: 0 });
    await gk.handle({
      id: 'o-1',
      aggregate: 'order',
      key: 'o',
      seq: 1,
      type: 'order.placed',
      payload: { total: 2 },
    });
    const sent = recordCommandNames(store);
    await gk.handle({
      id: 'o-2',
      aggregate: 'order',
      key: 'o',
      seq: 2,
      type: 'order.paid',
      payload: { amount: 2 },
    });
    await gk.handle({ id: 'o-3', aggregate: 'order', key: 'o', seq: 3, type: 'order.shipped', payload: {} });
    expect(sent).toEqual(['evalsha', 'evalsha']);
    await gk.close();
  });

  it('sends decisions made in the same turn as one script call per shard, each fenced by its own version', async () => {
    const store = open({ shards: 1 });
    const commitAt = (expectedVersion: number, lastSeq: number): EntityCommit => ({
      expectedVersion,
      entity: { lastSeq, buffer: [], seenIds: [], parked: undefined, lastTime: undefined },
      snapshot: undefined,
      bufferAdded: [],
      bufferRemoved: [],
      seenAdded: [],
      parkedChanged: false,
      applied: [],
      deadLetters: [],
      history: [],
      oldestBufferedAt: undefined,
      final: false,
    });
    const ref = (key: string) => ({ aggregate: 'order', key });
    expect(await store.commit(ref('taken'), commitAt(0, 1))).toEqual({ ok: true, version: 1 });
    const sent = recordCommandNames(store);
    const results = await Promise.all([
      store.commit(ref('a'), commitAt(0, 1)),
      store.commit(ref('taken'), commitAt(0, 7)), // another process committed it first
      store.commit(ref('b'), commitAt(0, 1)),
    ]);
    expect(sent).toEqual(['evalsha']);
    expect(results).toEqual([
      { ok: true, version: 1 },
      { ok: false, reason: 'version-conflict' },
      { ok: true, version: 1 },
    ]);
    expect(await store.load(ref('taken'))).toMatchObject({ version: 1, lastSeq: 1 });
    expect(await store.load(ref('b'))).toMatchObject({ version: 1, lastSeq: 1 });
  });

  it('names its scripts after a digest of their text and leaves a client it was given open on close', async () => {
    const client = new Redis(REDIS_URL);
    const store = redisStore({ redis: client, prefix });
    await store.ready();
    const digest = createHash('sha1').update(scriptSource('commitBatch')).digest('hex').slice(0, 12);
    const command = `gatekeeper_commitBatch_${digest}`;
    expect(typeof (client as unknown as Record<string, unknown>)[command]).toBe('function');
    await store.close();
    expect(await client.ping()).toBe('PONG');
    await expect(store.load({ aggregate: 'order', key: 'x' })).rejects.toBeInstanceOf(StoreUnavailableError);
    await client.quit();
  });

  it('refuses to share a prefix with a process configured for another shard count', async () => {
    await open({ shards: 16 }).ready();
    const other = open({ shards: 8 });
    await expect(other.ready()).rejects.toBeInstanceOf(InvalidConfigError);
    await expect(other.load({ aggregate: 'order', key: 'x' })).rejects.toBeInstanceOf(InvalidConfigError);
  });

  it('expires an entity finalEntityTtlMs after it reached a final state with nothing waiting, and keeps one that still holds events', async () => {
    const store = open({ finalEntityTtlMs: 60_000 });
    const gk = createGatekeeper({ machines, store, sweepIntervalMs: 0 });
    const ttl = (key: string) => admin.pttl(store.keys.entity({ aggregate: 'order', key }).state);
    await gk.handle({
      id: 'a-1',
      aggregate: 'order',
      key: 'a',
      seq: 1,
      type: 'order.placed',
      payload: { total: 1 },
    });
    expect(await ttl('a')).toBe(-1);
    await gk.handle({
      id: 'a-2',
      aggregate: 'order',
      key: 'a',
      seq: 2,
      type: 'order.cancelled',
      payload: {},
    });
    expect(await ttl('a')).toBeGreaterThan(50_000);
    expect(await admin.pttl(store.keys.entity({ aggregate: 'order', key: 'a' }).history)).toBeGreaterThan(
      50_000,
    );

    await gk.handle({
      id: 'b-1',
      aggregate: 'order',
      key: 'b',
      seq: 1,
      type: 'order.placed',
      payload: { total: 1 },
    });
    await gk.handle({ id: 'b-4', aggregate: 'order', key: 'b', seq: 4, type: 'order.shipped', payload: {} });
    await gk.handle({
      id: 'b-2',
      aggregate: 'order',
      key: 'b',
      seq: 2,
      type: 'order.cancelled',
      payload: {},
    });
    expect((await gk.inspect('order', 'b'))?.status).toBe('done');
    expect(await ttl('b')).toBe(-1);
    await gk.close();
  });

  it('validates its options with InvalidConfigError before connecting', () => {
    expect(() => redisStore({ url: REDIS_URL, prefix: 'a{b}' })).toThrow(InvalidConfigError);
    expect(() => redisStore({ url: REDIS_URL, historyLimit: -1 })).toThrow(InvalidConfigError);
    expect(() => redisStore({ url: REDIS_URL, finalEntityTtlMs: 0 })).toThrow(InvalidConfigError);
    expect(() => redisStore({ url: 'http://localhost' })).toThrow(InvalidConfigError);
    expect(() => redisStore({ url: REDIS_URL, cluster: { nodes: ['127.0.0.1:1'] } })).toThrow(
      InvalidConfigError,
    );
    expect(() => redisStore({ sentinels: [{ host: '127.0.0.1', port: 26379 }] })).toThrow(InvalidConfigError);
  });

  describe('through Redis Sentinel', () => {
    let server: OwnRedis;
    let sentinel: Awaited<ReturnType<typeof startSentinel>>;
    beforeAll(async () => {
      server = await startOwnRedis();
      sentinel = await startSentinel('gkmaster', server.port);
    });
    afterAll(async () => {
      await sentinel.stop();
      await server.destroy();
    });

    it('finds the master through the sentinels and commits decisions there', async () => {
      const store = open({
        url: undefined,
        sentinels: [{ host: '127.0.0.1', port: sentinel.port }],
        name: 'gkmaster',
      });
      const gk = createGatekeeper({ machines, store, sweepIntervalMs: 0 });
      await gk.handle({
        id: 's-1',
        aggregate: 'order',
        key: 's',
        seq: 1,
        type: 'order.placed',
        payload: { total: 1 },
      });
      const direct = new Redis(server.url);
      expect(await direct.hget(store.keys.entity({ aggregate: 'order', key: 's' }).state, 'v')).toBe('1');
      await direct.quit();
      await gk.close();
    });
  });

  describe('over TLS', () => {
    let server: OwnRedis;
    let tls: Awaited<ReturnType<typeof makeTlsFiles>>;
    let tlsPort = 0;
    beforeAll(async () => {
      tls = await makeTlsFiles();
      tlsPort = await freePort();
      const tlsArgs = ['--tls-port', String(tlsPort), '--tls-cert-file', tls.cert, '--tls-key-file', tls.key];
      server = await startOwnRedis({
        extraArgs: [...tlsArgs, '--tls-ca-cert-file', tls.ca, '--tls-auth-clients', 'no'],
      });
    });
    afterAll(async () => {
      await server.destroy();
      tls.remove();
    });

    it('connects with rediss:// and the tls option, and refuses a server certificate it cannot verify', async () => {
      const url = `rediss://127.0.0.1:${tlsPort}`;
      const store = open({ url, tls: { ca: readFileSync(tls.ca) } });
      const gk = createGatekeeper({ machines, store, sweepIntervalMs: 0 });
      expect(
        (
          await gk.handle({
            id: 't-1',
            aggregate: 'order',
            key: 't',
            seq: 1,
            type: 'order.placed',
            payload: { total: 1 },
          })
        ).outcome.outcome,
      ).toBe('applied');
      expect(await gk.inspect('order', 't')).toMatchObject({ state: 'placed', version: 1 });
      await gk.close();
      const unverified = open({ url, operationTimeoutMs: 2_000 });
      await expect(unverified.ready()).rejects.toBeInstanceOf(StoreUnavailableError);
    });
  });

  describe('with a password-protected server', () => {
    let server: OwnRedis;
    beforeAll(async () => {
      server = await startOwnRedis({ password: 's3cret pass' });
    });
    afterAll(async () => {
      await server.destroy();
    });

    it('authenticates with the password option, and a wrong one fails with StoreUnavailableError', async () => {
      const good = open({ url: server.url, password: 's3cret pass' });
      await good.ready();
      expect(await good.load({ aggregate: 'order', key: 'x' })).toBeUndefined();
      const bad = open({ url: server.url, password: 'wrong', operationTimeoutMs: 2_000 });
      await expect(bad.ready()).rejects.toBeInstanceOf(StoreUnavailableError);
    });
  });
});
