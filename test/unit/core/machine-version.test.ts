import { describe, expect, it } from 'vitest';
import { setup } from 'xstate';
import { buildAggregates } from '../../../src/core/aggregate.ts';
import { compareVersions, machineFingerprint, migrationPath } from '../../../src/core/machine-version.ts';
import { registryDisagreements } from '../../../src/gatekeeper/version-registry.ts';
import { ticketV1, ticketV2, ticketV2Added } from '../../fixtures/versions/ticket-machines.ts';

const guarded = (guard: string, check: () => boolean) =>
  setup({ guards: { [guard]: check } }).createMachine({
    id: 'g',
    initial: 'a',
    states: { a: { on: { go: { target: 'b', guard } } }, b: {} },
  });

describe('machine fingerprints', () => {
  it('are stable for the same structure and change with a renamed or added state', () => {
    expect(machineFingerprint(ticketV1)).toMatch(/^fp-[0-9a-f]{16}$/);
    expect(machineFingerprint(ticketV1)).toBe(machineFingerprint(ticketV1));
    expect(machineFingerprint(ticketV2)).not.toBe(machineFingerprint(ticketV1));
    expect(machineFingerprint(ticketV2Added)).not.toBe(machineFingerprint(ticketV1));
  });

  it('name guards: a renamed guard changes the fingerprint, a changed guard body does not', () => {
    expect(machineFingerprint(guarded('ok', () => true))).toBe(
      machineFingerprint(guarded('ok', () => false)),
    );
    expect(machineFingerprint(guarded('ok', () => true))).not.toBe(
      machineFingerprint(guarded('allowed', () => true)),
    );
  });

  it('are the version of a registry entry without one; an explicit version wins', () => {
    const aggregates = buildAggregates({ a: ticketV1, b: { machine: ticketV1, version: 7 } });
    expect(aggregates.get('a')).toMatchObject({
      version: machineFingerprint(ticketV1),
      explicitVersion: false,
    });
    expect(aggregates.get('b')).toMatchObject({ version: '7', explicitVersion: true });
  });

  it('a migrate option that is not a function is refused at registration', () => {
    expect(() => buildAggregates({ a: { machine: ticketV1, migrate: { '1': 'rename' } } })).toThrow(
      /aggregate "a": migrate/,
    );
  });
});

describe('version order', () => {
  it('numeric versions compare as numbers', () => {
    expect(compareVersions('2', '10', undefined, undefined)).toBe('older');
    expect(compareVersions('10', '2', undefined, undefined)).toBe('newer');
    expect(compareVersions('3', '3', undefined, undefined)).toBe('same');
  });

  it('a version the migrations name is older; otherwise first committed first, an unknown one newer', () => {
    const known = new Map([
      ['fp-a', { version: 'fp-a', firstSeenAt: 100 }],
      ['fp-b', { version: 'fp-b', firstSeenAt: 200 }],
    ]);
    expect(compareVersions('fp-z', 'fp-b', { 'fp-z': (s) => s }, known)).toBe('older');
    expect(compareVersions('fp-a', 'fp-b', undefined, known)).toBe('older');
    expect(compareVersions('fp-b', 'fp-a', undefined, known)).toBe('newer');
    // The version being deployed has never been committed: everything stored is older.
    expect(compareVersions('fp-b', 'fp-new', undefined, known)).toBe('older');
    expect(compareVersions('fp-unknown', 'fp-a', undefined, known)).toBe('newer');
  });
});

describe('migration paths', () => {
  const step = (tag: string) => (snapshot: Record<string, unknown>) => ({ ...snapshot, [tag]: true });

  it('chain a map from the stored version to the current one, oldest first', () => {
    const path = migrationPath('1', '4', { '1': step('a'), '2': step('b'), '3': step('c') });
    expect(path?.map(({ from, to }) => [from, to])).toEqual([
      ['1', '2'],
      ['2', '3'],
      ['3', '4'],
    ]);
    expect(migrationPath('2', '4', { '1': step('a'), '2': step('b'), '3': step('c') })?.length).toBe(2);
  });

  it('a single function takes any older version in one step; no entry means no migration', () => {
    expect(migrationPath('1', '3', step('a'))?.map(({ from, to }) => [from, to])).toEqual([['1', '3']]);
    expect(migrationPath('0', '3', { '1': step('a') })).toBeUndefined();
    expect(migrationPath('3', '3', step('a'))).toBeUndefined();
  });
});

describe('registry disagreements', () => {
  it('names aggregates only the store knows and aggregates stored under other versions', () => {
    const notes = registryDisagreements(new Map([['ticket', { version: '2' }]]), [
      { aggregate: 'ticket', version: '1', entities: 3, firstSeenAt: 1 },
      { aggregate: 'ticket', version: '2', entities: 5, firstSeenAt: 2 },
      { aggregate: 'loan', version: 'fp-1', entities: 1, firstSeenAt: 1 },
      { aggregate: 'gone', version: '1', entities: 0, firstSeenAt: 1 },
    ]);
    expect(notes).toEqual([
      'the store has ticket entities under other versions (3 on 1, 5 on 2); this process runs 2',
      'the store has loan entities (1 on fp-1) but this process has no machine for loan: its events are held for a member that has one',
    ]);
  });
});
