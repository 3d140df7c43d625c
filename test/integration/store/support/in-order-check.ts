/**
 * What a store must hold after a stream was processed, however shuffled, duplicated, redelivered
 * or interrupted: exactly what processing every entity's history in seq order once gives. The
 * expectation comes from a gatekeeper on the memory store fed the histories in order; `checkStore`
 * compares a store against it and accounts for every input event.
 */
import { expect } from 'vitest';
import machines from '../../../../machines/index.ts';
import type { EventEnvelope } from '../../../../src/core/envelope.ts';
import type { AppliedTransition, StateValue } from '../../../../src/core/outcome.ts';
import { demoStream, type DemoStream, type DemoStreamOptions } from '../../../../src/demo/stream.ts';
import { createGatekeeper } from '../../../../src/index.ts';
import type { EntityStore } from '../../../../src/store/entity-store.ts';
import { memoryStore } from '../../../../src/store/memory-store.ts';

export interface EntityExpectation {
  aggregate: string;
  key: string;
  state: StateValue;
  lastSeq: number;
  buffered: string[];
  parked: string | undefined;
}

export interface Expectation {
  entities: EntityExpectation[];
  /** Ids of applied events (each must be in the outbox exactly once). */
  applied: Set<string>;
  /** Ids of rejected entity events (each must be dead-lettered exactly once). */
  rejected: Set<string>;
  /** Ids of the garbage inputs (each must be dead-lettered at least once: redelivery repeats them). */
  garbage: Set<string>;
}

export function makeStream(options: DemoStreamOptions): DemoStream {
  return demoStream({ duplicateRate: 0.15, illegalRate: 0.05, garbageRate: 0.005, ...options });
}

export async function expectInOrder(stream: DemoStream): Promise<Expectation> {
  const store = memoryStore({ outbox: true });
  const gk = createGatekeeper({ machines, store, sweepIntervalMs: 0 });
  for (const history of stream.histories)
    for (const event of history) await gk.handle(structuredClone(event));
  const entities: EntityExpectation[] = [];
  for (const history of stream.histories) {
    const { aggregate, key } = history[0] as EventEnvelope;
    const inspection = await gk.inspect(aggregate, key);
    if (!inspection) throw new Error(`no entity ${aggregate}/${key} after in-order processing`);
    entities.push({
      aggregate,
      key,
      state: inspection.state,
      lastSeq: inspection.lastSeq,
      buffered: inspection.buffered.map((b) => b.event.id),
      parked: inspection.parked?.event.id,
    });
  }
  const applied = new Set((await store.readOutbox(Number.MAX_SAFE_INTEGER)).map((row) => row.value.id));
  const rejected = new Set(
    (await store.readDeadLetters(Number.MAX_SAFE_INTEGER)).flatMap((l) =>
      l.value.event ? [l.value.event.id] : [],
    ),
  );
  await gk.close();
  const garbage = new Set(
    stream.inputs.flatMap((input) => {
      const id = garbageId(input);
      return id === undefined ? [] : [id];
    }),
  );
  return { entities, applied, rejected, garbage };
}

/** The garbage records of the demo stream carry ids `garbage-<n>` (as a field, or as an array's item). */
function garbageId(input: unknown): string | undefined {
  if (Array.isArray(input) && typeof input[0] === 'string' && input[0].startsWith('garbage-'))
    return input[0];
  const id = (input as { id?: unknown }).id;
  return typeof id === 'string' && id.startsWith('garbage-') ? id : undefined;
}

/** Asserts the store holds exactly the in-order result, with each transition once in the outbox. */
export async function checkStore(
  store: EntityStore,
  stream: DemoStream,
  expected: Expectation,
): Promise<void> {
  const gk = createGatekeeper({ machines, store, sweepIntervalMs: 0 });
  try {
    const mismatches: string[] = [];
    const accounted = new Set<string>();
    for (const entity of expected.entities) {
      const inspection = await gk.inspect(entity.aggregate, entity.key);
      const actual = {
        aggregate: entity.aggregate,
        key: entity.key,
        state: inspection?.state,
        lastSeq: inspection?.lastSeq,
        buffered: inspection?.buffered.map((b) => b.event.id),
        parked: inspection?.parked?.event.id,
      };
      if (JSON.stringify(actual) !== JSON.stringify(entity))
        mismatches.push(`${JSON.stringify(actual)} != ${JSON.stringify(entity)}`);
      for (const id of actual.buffered ?? []) accounted.add(id);
      if (actual.parked) accounted.add(actual.parked);
      for (const entry of await gk.history(entity.aggregate, entity.key))
        if (entry.outcome === 'discarded' && entry.id) accounted.add(entry.id);
    }
    expect(mismatches.slice(0, 5), `${mismatches.length} entities differ from in-order processing`).toEqual(
      [],
    );

    const outbox = (await store.readOutbox(Number.MAX_SAFE_INTEGER)).map((row) => row.value);
    const outboxIds = outbox.map((row) => row.id);
    expect(duplicates(outboxIds), 'transitions in the outbox more than once').toEqual([]);
    expect(new Set(outboxIds)).toEqual(expected.applied);
    expect(outOfOrder(outbox), 'entities whose outbox rows are not in seq order').toEqual([]);
    for (const id of outboxIds) accounted.add(id);

    const letters = (await store.readDeadLetters(Number.MAX_SAFE_INTEGER)).map((item) => item.value);
    const rejectedIds = letters.flatMap((l) =>
      l.event && !l.event.id.startsWith('garbage-') ? [l.event.id] : [],
    );
    expect(duplicates(rejectedIds), 'events dead-lettered more than once').toEqual([]);
    expect(new Set(rejectedIds)).toEqual(expected.rejected);
    for (const id of rejectedIds) accounted.add(id);
    const garbageSeen = new Set(
      letters.flatMap((l) => [
        l.event?.id,
        (l.raw as unknown[] | undefined)?.[0],
        (l.raw as { id?: unknown } | undefined)?.id,
      ]),
    );
    expect(
      [...expected.garbage].filter((id) => !garbageSeen.has(id)),
      'garbage inputs with no dead letter',
    ).toEqual([]);

    const inputIds = new Set(stream.histories.flat().map((event) => event.id));
    expect(
      [...inputIds].filter((id) => !accounted.has(id)),
      'input events neither applied, rejected, buffered nor discarded',
    ).toEqual([]);
  } finally {
    // The caller owns the store; only the gatekeeper's resident state goes.
    await gk.idle();
  }
}

function duplicates(ids: readonly string[]): string[] {
  const seen = new Set<string>();
  return ids.filter((id) => (seen.has(id) ? true : (seen.add(id), false)));
}

function outOfOrder(rows: readonly AppliedTransition[]): string[] {
  const last = new Map<string, number>();
  const bad: string[] = [];
  for (const row of rows) {
    const id = `${row.aggregate}/${row.key}`;
    if ((last.get(id) ?? 0) >= row.seq) bad.push(id);
    last.set(id, row.seq);
  }
  return bad;
}
