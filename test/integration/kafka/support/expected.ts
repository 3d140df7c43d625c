/**
 * What the output and dead-letter topics must hold after a demo stream went through the Kafka
 * runtime, however shuffled, duplicated, redelivered or interrupted: per entity, exactly the
 * transitions in-order processing applies (after dropping copies with the same identity header),
 * and a dead letter for every event in-order processing rejects and for every garbage record.
 */
import machines from '../../../../machines/index.ts';
import { createGatekeeper } from '../../../../src/create-gatekeeper.ts';
import type { EventEnvelope } from '../../../../src/core/envelope.ts';
import type { DeadLetter } from '../../../../src/core/outcome.ts';
import { inOrderReference } from '../../../../src/demo/in-order-reference.ts';
import type { DemoStream } from '../../../../src/demo/stream.ts';
import { HEADERS, type OutputRecordValue } from '../../../../src/kafka/index.ts';
import { memoryStore } from '../../../../src/store/memory-store.ts';
import { expect } from 'vitest';
import { readCommitted, readTopic, type ReadRecord } from './kafka.ts';

export interface Expectation {
  /** `aggregate/key` → ids of the applied events, in order. */
  applied: Map<string, string[]>;
  /** Event ids in-order processing rejects → reason. */
  rejected: Map<string, string>;
  /** Ids of garbage inputs (`garbage-<n>`). */
  garbage: Set<string>;
}

export async function expectationFor(stream: DemoStream): Promise<Expectation> {
  const store = memoryStore({ outbox: true });
  const gatekeeper = createGatekeeper({ machines, store, sweepIntervalMs: 0 });
  const applied = new Map<string, string[]>();
  for (const history of stream.histories) {
    const first = history[0] as EventEnvelope;
    const aggregate = gatekeeper.aggregates.get(first.aggregate);
    if (!aggregate) throw new Error(`no aggregate ${first.aggregate}`);
    applied.set(`${first.aggregate}/${first.key}`, inOrderReference(aggregate, history).applied);
    for (const event of history) await gatekeeper.handle(structuredClone(event));
  }
  const rejected = new Map<string, string>();
  for (const { value } of await store.readDeadLetters(Number.MAX_SAFE_INTEGER)) {
    if (value.event) rejected.set(value.event.id, value.reason);
  }
  await gatekeeper.close();
  const garbage = new Set(stream.inputs.flatMap((input) => garbageId(input) ?? []));
  return { applied, rejected, garbage };
}

function garbageId(input: unknown): string | undefined {
  if (Array.isArray(input) && typeof input[0] === 'string' && input[0].startsWith('garbage-'))
    return input[0];
  const id = (input as { id?: unknown }).id;
  return typeof id === 'string' && id.startsWith('garbage-') ? id : undefined;
}

export interface OutputCheck {
  /** Entities whose deduplicated output differs from the expectation (first few). */
  mismatches: { entity: string; expected: string[]; actual: string[] }[];
  mismatchCount: number;
  records: number;
  /** Records dropped as copies of an identity seen before. */
  duplicates: number;
  /** Records without the identity header or with a key that is not the entity key. */
  malformed: number;
}

/** Groups the output topic by entity, keeps the first copy of each identity, compares with `expected`. */
export function checkOutput(records: readonly ReadRecord[], expected: Expectation): OutputCheck {
  const seen = new Set<string>();
  const actual = new Map<string, string[]>();
  let duplicates = 0;
  let malformed = 0;
  for (const record of records) {
    const identity = record.headers[HEADERS.id];
    const value = JSON.parse(record.value ?? 'null') as OutputRecordValue;
    if (identity === undefined || record.key !== value.key) malformed += 1;
    if (identity !== undefined && seen.has(identity)) {
      duplicates += 1;
      continue;
    }
    if (identity !== undefined) seen.add(identity);
    const entity = `${value.aggregate}/${value.key}`;
    const list = actual.get(entity) ?? [];
    list.push(value.id);
    actual.set(entity, list);
  }
  const mismatches: OutputCheck['mismatches'] = [];
  let mismatchCount = 0;
  for (const [entity, ids] of expected.applied) {
    const got = actual.get(entity) ?? [];
    if (JSON.stringify(got) !== JSON.stringify(ids)) {
      mismatchCount += 1;
      if (mismatches.length < 5) mismatches.push({ entity, expected: ids, actual: got });
    }
  }
  for (const entity of actual.keys()) {
    if (!expected.applied.has(entity)) {
      mismatchCount += 1;
      if (mismatches.length < 5) mismatches.push({ entity, expected: [], actual: actual.get(entity) ?? [] });
    }
  }
  return { mismatches, mismatchCount, records: records.length, duplicates, malformed };
}

export interface DeadLetterCheck {
  /** Dead-letter records without the input record's topic and offset in their headers. */
  withoutSource: number;
  /** Expected rejections with no dead letter, or with another reason (first few). */
  missing: string[];
  missingCount: number;
  garbageMissing: string[];
  /** Dead letters whose reason header differs from the value's reason. */
  inconsistent: number;
  /** Dead letters for an input record (its topic, partition and offset) that already had one. */
  duplicates: number;
  /** The first few of those: source and reason. */
  duplicateExamples: string[];
}

export function checkDeadLetters(records: readonly ReadRecord[], expected: Expectation): DeadLetterCheck {
  const reasons = new Map<string, Set<string>>();
  const ids = new Set<string>();
  let inconsistent = 0;
  let withoutSource = 0;
  let duplicates = 0;
  const duplicateExamples: string[] = [];
  const sources = new Map<string, string | undefined>();
  for (const record of records) {
    const letter = JSON.parse(record.value ?? 'null') as DeadLetter;
    const source = [HEADERS.sourceTopic, HEADERS.sourcePartition, HEADERS.sourceOffset]
      .map((name) => record.headers[name])
      .join('/');
    if (sources.has(source)) {
      duplicates += 1;
      // The same gatekeeper-id twice: one stored letter published twice; two ids: recorded twice.
      if (duplicateExamples.length < 5)
        duplicateExamples.push(
          `${source} (${letter.reason}; ids ${sources.get(source) ?? '?'} and ${record.headers[HEADERS.id] ?? '?'})`,
        );
    }
    sources.set(source, record.headers[HEADERS.id]);
    if (record.headers[HEADERS.reason] !== letter.reason) inconsistent += 1;
    if (
      record.headers[HEADERS.sourceTopic] === undefined ||
      record.headers[HEADERS.sourceOffset] === undefined
    )
      withoutSource += 1;
    const id = letter.event?.id ?? garbageId(letter.raw);
    if (id === undefined) continue;
    ids.add(id);
    const set = reasons.get(id) ?? new Set<string>();
    set.add(letter.reason);
    reasons.set(id, set);
  }
  const missing = [...expected.rejected]
    .filter(([id, reason]) => !reasons.get(id)?.has(reason))
    .map(([id, reason]) => `${id} (${reason})`);
  const garbageMissing = [...expected.garbage].filter((id) => !ids.has(id));
  return {
    missing: missing.slice(0, 5),
    missingCount: missing.length,
    garbageMissing,
    inconsistent,
    withoutSource,
    duplicates,
    duplicateExamples,
  };
}

/**
 * Reads the output and dead-letter topics and asserts they hold what `expected` says: every
 * entity's transitions, none missing or out of order, and a dead letter for every rejected event
 * and garbage record, each naming its input record (whichever process published it). Returns both
 * checks for what a test asserts beyond that.
 */
export async function expectEverythingPublished(
  topics: { brokers: string; output: string; deadLetter: string },
  expected: Expectation,
): Promise<{ output: OutputCheck; dead: DeadLetterCheck }> {
  const output = checkOutput(await readTopic(topics.brokers, topics.output), expected);
  const dead = checkDeadLetters(await readTopic(topics.brokers, topics.deadLetter), expected);
  expect(output.mismatches).toEqual([]);
  expect(output.mismatchCount).toBe(0);
  expect(dead.missing).toEqual([]);
  expect(dead.garbageMissing).toEqual([]);
  expect(dead.withoutSource).toBe(0);
  return { output, dead };
}

/**
 * Reads the output and dead-letter topics as a `read_committed` consumer and asserts exactly
 * once: every entity's transitions once each, none missing, in per-entity order, well formed, and
 * one dead letter for every rejected event and garbage record. Returns both checks (for the log
 * line and anything a test asserts beyond that).
 */
export async function expectExactlyOnce(
  topics: { brokers: string; output: string; deadLetter: string },
  expected: Expectation,
): Promise<{ output: OutputCheck; dead: DeadLetterCheck }> {
  const output = checkOutput(await readCommitted(topics.brokers, topics.output), expected);
  const dead = checkDeadLetters(await readCommitted(topics.brokers, topics.deadLetter), expected);
  expect(output.mismatches).toEqual([]);
  expect(output.mismatchCount).toBe(0);
  expect(output.duplicates).toBe(0);
  expect(output.malformed).toBe(0);
  expect(dead.missing).toEqual([]);
  expect(dead.garbageMissing).toEqual([]);
  expect(dead.duplicateExamples).toEqual([]);
  expect(dead.duplicates).toBe(0);
  return { output, dead };
}
