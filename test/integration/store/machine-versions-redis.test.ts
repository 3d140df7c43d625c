/**
 * Machine versions on Redis: the scenarios every store must pass (renamed state with and without
 * a migration, a compatible change, failing migrations, a newer version, reset and skip, an
 * aggregate only another member knows, the dry run), plus what only a real Redis can show:
 * corrupt snapshot bytes written into the entity hash, and the per-version counts kept there.
 */
import { Redis } from 'ioredis';
import { afterAll, describe, expect, it } from 'vitest';
import { createGatekeeperWithStore } from '../../../src/gatekeeper/gatekeeper.ts';
import { planVersions } from '../../../src/gatekeeper/version-plan.ts';
import { redisStore } from '../../../src/store/redis/index.ts';
import { registries } from '../../fixtures/versions/ticket-machines.ts';
import { sequenced } from '../../support/events.ts';
import { versionScenarios } from '../../support/version-scenarios.ts';
import { deletePrefix, REDIS_URL, uniquePrefix } from './support/redis-servers.ts';

const prefix = uniquePrefix('versions');
const admin = new Redis(REDIS_URL);

afterAll(async () => {
  await deletePrefix(admin, prefix);
  await admin.quit();
});

function open(machines: Parameters<typeof createGatekeeperWithStore>[0]['machines']) {
  return createGatekeeperWithStore({
    machines,
    store: redisStore({ url: REDIS_URL, prefix }),
    sweepIntervalMs: 0,
  });
}

describe('machine versions on Redis', () => {
  let run = 0;
  versionScenarios(open, () => `r${(run += 1)}-`);

  it('corrupt snapshot bytes in Redis hold the entity with a clear reason; nothing throws, its events wait, reset recovers it', async () => {
    const key = 'corrupt-1';
    const at = sequenced('ticket', key);
    const v1 = open(registries.v1);
    await v1.handle(at(1, 'ticket.opened'));
    await v1.close();
    const store = redisStore({ url: REDIS_URL, prefix });
    const stateKey = store.keys.entity({ aggregate: 'ticket', key }).state;
    await store.close();
    await admin.hset(stateKey, 's', '{"value":"open", garbage');

    const gk = open(registries.v1);
    const result = await gk.handle(at(2, 'ticket.assigned'));
    expect(result.outcome).toMatchObject({ outcome: 'buffered', reason: 'entity-held' });
    const inspection = await gk.inspect('ticket', key);
    expect(inspection?.held?.reason).toBe('corrupt-snapshot');
    expect(inspection?.held?.detail).toMatch(/stored snapshot of ticket\/corrupt-1 cannot be read/);
    expect(await gk.attention()).toContainEqual(expect.objectContaining({ key, reason: 'corrupt-snapshot' }));
    // The dry run reports it too, without writing anything.
    const [plan] = await planVersions(gk.aggregates, gk.store);
    expect(plan?.entities.find((entity) => entity.key === key)).toMatchObject({
      action: 'held',
      reason: 'corrupt-snapshot',
    });
    // From the initial state the held assignment is illegal: rejected with its reason, not lost.
    const drained = await gk.reset('ticket', key);
    expect(drained.map((o) => [o.seq, o.outcome, o.reason])).toEqual([[2, 'rejected', 'illegal-at-seq']]);
    expect(await gk.inspect('ticket', key)).toMatchObject({ state: 'none', lastSeq: 2, held: undefined });
    await gk.close();
  });

  it('an unreadable buffered entry holds the entity as corrupt-entity, naming the field; the other events still wait', async () => {
    const key = 'corrupt-2';
    const at = sequenced('ticket', key);
    const v1 = open(registries.v1);
    await v1.handle(at(1, 'ticket.opened'));
    await v1.handle(at(3, 'ticket.resolved'));
    await v1.close();
    const store = redisStore({ url: REDIS_URL, prefix });
    const stateKey = store.keys.entity({ aggregate: 'ticket', key }).state;
    await store.close();
    await admin.hset(stateKey, 'b:bogus', '7|{not json');

    const gk = open(registries.v1);
    expect((await gk.handle(at(2, 'ticket.assigned'))).outcome.reason).toBe('entity-held');
    const inspection = await gk.inspect('ticket', key);
    expect(inspection?.held?.reason).toBe('corrupt-entity');
    expect(inspection?.held?.detail).toContain(
      'buffered entry "b:bogus" of ticket/corrupt-2 is not valid JSON',
    );
    expect(inspection?.buffered.map((entry) => entry.event.seq)).toEqual([2, 3]);
    // Repaired by hand, the entity is released and drains in order.
    await admin.hdel(stateKey, 'b:bogus');
    const outcomes = await gk.migrate('ticket', key);
    expect(outcomes.map((o) => [o.seq, o.outcome, o.state])).toEqual([
      [2, 'applied', 'assigned'],
      [3, 'applied', 'resolved'],
    ]);
    await gk.close();
  });

  it('the store counts entities per aggregate and version in the shards, and moves them on a restamp', async () => {
    const key = 'count-1';
    const at = sequenced('ticket', key);
    const store = redisStore({ url: REDIS_URL, prefix });
    const before = (await store.versions()).filter((row) => row.aggregate === 'ticket');
    await store.close();
    const v1 = open(registries.v1);
    await v1.handle(at(1, 'ticket.opened'));
    await v1.close();
    const v2 = open(registries.v2Added);
    await v2.handle(at(2, 'ticket.assigned'));
    const after = (await v2.store.versions()).filter((row) => row.aggregate === 'ticket');
    await v2.close();
    const count = (rows: typeof after, version: string) =>
      rows.find((row) => row.version === version)?.entities ?? 0;
    expect(count(after, '1')).toBe(count(before, '1'));
    expect(count(after, '2')).toBe(count(before, '2') + 1);
    expect(after.find((row) => row.version === '1')?.firstSeenAt).toBeLessThanOrEqual(
      after.find((row) => row.version === '2')?.firstSeenAt ?? 0,
    );
  });
});
