/**
 * Machine-version scenarios, run on every store (memory in test/unit, Redis in
 * test/integration): a machine changes while entities are stored, and each way of loading them
 * (migrate, carry on, hold) must keep every event and say why. `open()` makes a gatekeeper with
 * the given registry on one shared store, as successive deploys would.
 */
import { expect, it } from 'vitest';
import type { Gatekeeper } from '../../src/gatekeeper/gatekeeper.ts';
import type { MachineRegistryInput } from '../../src/core/aggregate.ts';
import { planVersions } from '../../src/gatekeeper/version-plan.ts';
import { registries, ticketV2, ticketV1 } from '../fixtures/versions/ticket-machines.ts';
import { sequenced } from './events.ts';

export type OpenGatekeeper = (machines: MachineRegistryInput) => Gatekeeper;

/** Two events that leave ticket `key` in `assigned` under v1. */
async function assignUnderV1(open: OpenGatekeeper, key: string): Promise<void> {
  const v1 = open(registries.v1);
  const at = sequenced('ticket', key);
  await v1.handle(at(1, 'ticket.opened'));
  expect((await v1.handle(at(2, 'ticket.assigned', { to: 'ada' }))).outcome.outcome).toBe('applied');
  await v1.close();
}

export function versionScenarios(open: OpenGatekeeper, keyPrefix: () => string): void {
  it('a renamed state without a migration holds the entity: later events are buffered, inspect and attention say why', async () => {
    const key = `${keyPrefix()}t1`;
    const at = sequenced('ticket', key);
    await assignUnderV1(open, key);
    const v2 = open(registries.v2);
    const resolved = await v2.handle(at(3, 'ticket.resolved'));
    expect(resolved.outcome).toMatchObject({ outcome: 'buffered', reason: 'entity-held' });
    expect(resolved.outcome.detail).toMatch(/version 1 and does not restore under version 2/);
    expect((await v2.handle(at(4, 'ticket.closed'))).outcome.reason).toBe('entity-held');
    const inspection = await v2.inspect('ticket', key);
    expect(inspection?.held?.reason).toBe('incompatible-snapshot');
    expect(inspection?.held?.detail).toMatch(/State 'assigned' does not exist/);
    expect(inspection).toMatchObject({
      state: 'assigned',
      storedVersion: '1',
      machineVersion: '2',
      lastSeq: 2,
    });
    expect(inspection?.buffered.map((entry) => entry.event.seq)).toEqual([3, 4]);
    const attention = await v2.attention();
    expect(attention).toContainEqual(
      expect.objectContaining({ aggregate: 'ticket', key, reason: 'incompatible-snapshot' }),
    );
    expect(await v2.parked()).toContainEqual({ aggregate: 'ticket', key });
    await expect(v2.migrate('ticket', key)).rejects.toThrow(/still held \(incompatible-snapshot\)/);
    await v2.close();

    // The migration is deployed: the operator migrates, the held events drain under v2 in order.
    const migrated = open(registries.v2Migrated);
    const outcomes = await migrated.migrate('ticket', key);
    expect(outcomes.map((o) => [o.seq, o.outcome, o.reason, o.state])).toEqual([
      [3, 'applied', 'drained', 'resolved'],
      [4, 'applied', 'drained', 'closed'],
    ]);
    const after = await migrated.inspect('ticket', key);
    expect(after).toMatchObject({
      state: 'closed',
      status: 'done',
      lastSeq: 4,
      storedVersion: '2',
      held: undefined,
    });
    expect(after?.buffered).toEqual([]);
    const history = await migrated.history('ticket', key);
    expect(history).toContainEqual(
      expect.objectContaining({
        outcome: 'migrated',
        reason: 'migration',
        fromVersion: '1',
        toVersion: '2',
        state: 'inProgress',
      }),
    );
    expect((await migrated.attention()).filter((entry) => entry.key === key)).toEqual([]);
    await migrated.close();
  });

  it('with the migration deployed, the next event migrates a stored entity by itself and is decided under v2', async () => {
    const key = `${keyPrefix()}t2`;
    const at = sequenced('ticket', key);
    await assignUnderV1(open, key);
    const v2 = open(registries.v2Migrated);
    const resolved = await v2.handle(at(3, 'ticket.resolved'));
    expect(resolved.outcome).toMatchObject({
      outcome: 'applied',
      reason: 'legal',
      from: 'inProgress',
      state: 'resolved',
    });
    expect((await v2.history('ticket', key)).map((entry) => entry.outcome)).toEqual([
      'applied',
      'applied',
      'migrated',
      'applied',
    ]);
    await v2.close();
  });

  it('a state added is a compatible change: the entity carries on under v2 and nothing is held', async () => {
    const key = `${keyPrefix()}t3`;
    const at = sequenced('ticket', key);
    await assignUnderV1(open, key);
    const v2 = open(registries.v2Added);
    expect((await v2.handle(at(3, 'ticket.resolved'))).outcome).toMatchObject({
      outcome: 'applied',
      state: 'resolved',
    });
    expect((await v2.attention()).filter((entry) => entry.key === key)).toEqual([]);
    expect(await v2.history('ticket', key)).toContainEqual(
      expect.objectContaining({
        outcome: 'migrated',
        reason: 'compatible',
        fromVersion: '1',
        toVersion: '2',
      }),
    );
    expect((await v2.inspect('ticket', key))?.storedVersion).toBe('2');
    await v2.close();
  });

  it('a migration that throws holds the entity and the reason says it threw', async () => {
    const key = `${keyPrefix()}t4`;
    await assignUnderV1(open, key);
    const v2 = open({
      ticket: {
        machine: ticketV2,
        version: 2,
        migrate: {
          '1': () => {
            throw new Error('no assignee table');
          },
        },
      },
    });
    const result = await v2.handle(sequenced('ticket', key)(3, 'ticket.resolved'));
    expect(result.outcome.reason).toBe('entity-held');
    const held = (await v2.inspect('ticket', key))?.held;
    expect(held?.reason).toBe('migration-threw');
    expect(held?.detail).toMatch(/from version 1 to 2 threw: no assignee table/);
    await v2.close();
  });

  it('a migration that returns a snapshot the machine cannot restore holds the entity and says so', async () => {
    const key = `${keyPrefix()}t5`;
    await assignUnderV1(open, key);
    const v2 = open({
      ticket: {
        machine: ticketV2,
        version: 2,
        migrate: { '1': (snapshot) => ({ ...snapshot, value: 'nowhere' }) },
      },
    });
    const result = await v2.handle(sequenced('ticket', key)(3, 'ticket.resolved'));
    expect(result.outcome.reason).toBe('entity-held');
    const held = (await v2.inspect('ticket', key))?.held;
    expect(held?.reason).toBe('migration-invalid');
    expect(held?.detail).toMatch(/cannot restore: State 'nowhere' does not exist/);
    await v2.close();
  });

  it('an entity committed under a newer version is never decided by an older process: held, naming both versions', async () => {
    const key = `${keyPrefix()}t6`;
    const at = sequenced('ticket', key);
    const v2 = open(registries.v2Added);
    await v2.handle(at(1, 'ticket.opened'));
    await v2.close();
    const v1 = open(registries.v1);
    const result = await v1.handle(at(2, 'ticket.assigned'));
    expect(result.outcome).toMatchObject({ outcome: 'buffered', reason: 'entity-held' });
    expect(result.outcome.detail).toMatch(/committed under version 2, newer than this process's version 1/);
    expect((await v1.inspect('ticket', key))?.held?.reason).toBe('newer-version');
    await v1.close();
    // Back on v2, the sweeper finds the hold ended and applies the buffered event, unasked.
    const again = open(registries.v2Added);
    const released = await again.sweep();
    expect(released.filter((o) => o.key === key).map((o) => [o.seq, o.outcome, o.state])).toEqual([
      [2, 'applied', 'assigned'],
    ]);
    // History says which version decided what: v1 only buffered, v2 applied.
    expect((await again.history('ticket', key)).map((e) => [e.outcome, e.machineVersion])).toEqual([
      ['applied', '2'],
      ['buffered', '1'],
      ['released', '2'],
      ['applied', '2'],
    ]);
    const next = await again.handle(at(3, 'ticket.resolved'));
    expect(next.outcome).toMatchObject({ outcome: 'applied', state: 'resolved' });
    expect((await again.inspect('ticket', key))?.held).toBeUndefined();
    await again.close();
  });

  it('an older process holds an event type only the newer version knows, instead of rejecting it; the newer one applies it', async () => {
    const key = `${keyPrefix()}t9`;
    const at = sequenced('ticket', key);
    const v2 = open(registries.v2Added);
    await v2.handle(at(1, 'ticket.opened'));
    await v2.close();
    const v1 = open(registries.v1);
    expect((await v1.handle(at(2, 'ticket.escalated'))).outcome).toMatchObject({
      outcome: 'buffered',
      reason: 'entity-held',
    });
    await v1.close();
    const again = open(registries.v2Added);
    const released = await again.sweep();
    expect(released.filter((o) => o.key === key).map((o) => [o.seq, o.outcome, o.state])).toEqual([
      [2, 'applied', 'escalated'],
    ]);
    await again.close();
  });

  it('reset puts a held entity in the initial state keeping its seq, and skip dead-letters held events', async () => {
    const key = `${keyPrefix()}t7`;
    const at = sequenced('ticket', key);
    await assignUnderV1(open, key);
    const v2 = open(registries.v2);
    await v2.handle(at(3, 'ticket.resolved'));
    const skipped = await v2.skip('ticket', key);
    expect(skipped.map((o) => [o.seq, o.outcome, o.reason])).toEqual([[3, 'rejected', 'operator-skipped']]);
    expect((await v2.inspect('ticket', key))?.held?.reason).toBe('incompatible-snapshot');
    await v2.handle(at(3, 'ticket.opened', {}));
    await v2.reset('ticket', key);
    const after = await v2.inspect('ticket', key);
    // The held seq 3 drained from the initial state: ticket.opened is legal there.
    expect(after).toMatchObject({ state: 'open', lastSeq: 3, held: undefined, storedVersion: '2' });
    expect(after?.buffered).toEqual([]);
    expect((await v2.history('ticket', key)).map((e) => e.outcome).slice(-2)).toEqual(['reset', 'applied']);
    expect((await v2.attention()).filter((entry) => entry.key === key)).toEqual([]);
    await expect(v2.reset('ticket', `${key}-typo`)).rejects.toThrow(/is not in this store/);
    await v2.close();
  });

  it('an event for an aggregate only another member knows is held, not dead-lettered, and that member drains it', async () => {
    const key = `${keyPrefix()}t8`;
    const at = sequenced('ticket', key);
    await assignUnderV1(open, `${key}-seed`);
    const other = open({ order: ticketV1 });
    const result = await other.handle(at(1, 'ticket.opened'));
    expect(result.outcome).toMatchObject({ outcome: 'buffered', reason: 'entity-held' });
    expect(result.outcome.detail).toMatch(/no machine for aggregate "ticket"/);
    await other.close();
    const knowing = open(registries.v1);
    const next = await knowing.handle(at(2, 'ticket.assigned'));
    expect(next.outcome).toMatchObject({ outcome: 'applied', state: 'assigned' });
    expect((await knowing.inspect('ticket', key))?.lastSeq).toBe(2);
    await knowing.close();
  });

  it('the dry run counts stored entities per version and what the new machines would do to each', async () => {
    const prefix = keyPrefix();
    await assignUnderV1(open, `${prefix}d1`);
    await assignUnderV1(open, `${prefix}d2`);
    const opened = open(registries.v1);
    await opened.handle(sequenced('ticket', `${prefix}d3`)(1, 'ticket.opened'));
    await opened.close();
    const planner = open(registries.v2);
    const [withoutMigration] = await planVersions(planner.aggregates, planner.store);
    await planner.close();
    // Only this test's entities are counted below: other tests share the store.
    const mine = (plan: typeof withoutMigration) => plan?.entities.filter((e) => e.key.startsWith(prefix));
    expect(withoutMigration?.version).toBe('2');
    expect(
      mine(withoutMigration)
        ?.map((e) => [e.key, e.action])
        .sort(),
    ).toEqual([
      [`${prefix}d1`, 'held'],
      [`${prefix}d2`, 'held'],
      [`${prefix}d3`, 'carry-on'],
    ]);
    expect(withoutMigration?.storedVersions['1']).toBeGreaterThanOrEqual(3);
    const migrating = open(registries.v2Migrated);
    const [withMigration] = await planVersions(migrating.aggregates, migrating.store);
    await migrating.close();
    // The migration is registered for every v1 snapshot, so it runs for the open one too.
    expect(
      mine(withMigration)
        ?.map((e) => e.action)
        .sort(),
    ).toEqual(['migrate', 'migrate', 'migrate']);
  });
}
