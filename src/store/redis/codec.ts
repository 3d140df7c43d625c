/**
 * Turns entity state into the strings the commit script writes and back. All values are JSON;
 * JSON.parse makes `__proto__` an ordinary own property, so stored payloads cannot reach a
 * prototype. Values that cannot be JSON (BigInt, cycles) are refused with a typed error before
 * anything is sent, except in dead letters, which are kept reduced instead (a rejection must
 * always be recordable).
 */
import type { HeldMark } from '../../core/attention.ts';
import type { BufferedEvent, ParkedEvent } from '../../core/entity.ts';
import { GatekeeperError, messageOf } from '../../core/errors.ts';
import type { DeadLetter } from '../../core/outcome.ts';
import type { TimeMark } from '../../core/time-order.ts';
import { valueHash } from '../value-hash.ts';
import type { PersistedSnapshot, StoredEntity } from '../entity-store.ts';
import { isBufferField } from './keys.ts';

/** A value in a commit could not be written as JSON. Not retriable: the same input fails again. */
export class UnserializableValueError extends GatekeeperError {
  constructor(what: string, cause: unknown) {
    super(`redis store: the ${what} cannot be stored as JSON: ${messageOf(cause)}`, {
      code: 'UNSERIALIZABLE_VALUE',
      cause,
    });
    this.name = 'UnserializableValueError';
  }
}

/** A stored value could not be read back (written by something else, or damaged). */
export class CorruptEntityError extends GatekeeperError {
  constructor(what: string, cause?: unknown) {
    super(`redis store: ${what}`, { code: 'STORE_CORRUPT', cause });
    this.name = 'CorruptEntityError';
  }
}

export function toJson(value: unknown, what: string): string {
  let text: string | undefined;
  try {
    text = JSON.stringify(value);
  } catch (error) {
    throw new UnserializableValueError(what, error);
  }
  if (text === undefined)
    throw new UnserializableValueError(what, new TypeError(`${typeof value} has no JSON form`));
  return text;
}

/**
 * Dead letters must always be recordable: one whose event or raw input cannot be JSON (a cycle, a
 * value nested deeper than JSON.stringify can go) is kept reduced — reason, detail, source, the
 * input's id and a hash of it in `raw` — so the rejection is still stored and published.
 */
export function deadLetterJson(letter: DeadLetter): string {
  try {
    return toJson(letter, 'dead letter');
  } catch (error) {
    return JSON.stringify(reducedDeadLetter(letter, messageOf(error)));
  }
}

function reducedDeadLetter(letter: DeadLetter, why: string): DeadLetter {
  const input: unknown = letter.event ?? letter.raw;
  const id = letter.event?.id ?? (input as { id?: unknown } | null | undefined)?.id;
  const source: Record<string, string | number> = {};
  for (const [field, value] of Object.entries(letter.source ?? {}))
    if (typeof value === 'string' || typeof value === 'number') source[field] = value;
  return {
    reason: letter.reason,
    detail: String(letter.detail),
    at: letter.at,
    event: undefined,
    raw: {
      unserializable: `the rejected input cannot be stored as JSON (${why}); kept reduced`,
      id: typeof id === 'string' ? id : null,
      hash: valueHash(input),
    },
    aggregate: typeof letter.aggregate === 'string' ? letter.aggregate : null,
    key: typeof letter.key === 'string' ? letter.key : null,
    ...(letter.source === undefined ? {} : { source }),
  };
}

/** Parses what the commit script stored in one entity hash; undefined for an empty hash. */
export function decodeEntity(fields: Record<string, string>, where: string): StoredEntity | undefined {
  const version = fields.v;
  if (version === undefined) return undefined;
  // Fields that cannot be read are reported, not thrown: the gatekeeper holds the entity (its
  // events wait, the operator is told which field) instead of failing every event of its
  // partition. Only the version is indispensable: without it no commit can be fenced.
  const corrupt: string[] = [];
  const tolerant = <TValue>(read: () => TValue, fallback: TValue): TValue => {
    try {
      return read();
    } catch (error) {
      corrupt.push(messageOf(error).replace(/^redis store: /, ''));
      return fallback;
    }
  };
  const buffered: { ordinal: number; entry: BufferedEvent }[] = [];
  for (const [field, value] of Object.entries(fields)) {
    if (!isBufferField(field)) continue;
    const bar = value.indexOf('|');
    const ordinal = Number(value.slice(0, bar));
    if (bar < 1 || !Number.isFinite(ordinal)) {
      corrupt.push(`buffered entry ${JSON.stringify(field)} of ${where} has no ordinal`);
      continue;
    }
    const entry = tolerant(
      () => parse<BufferedEvent>(value.slice(bar + 1), `buffered entry ${JSON.stringify(field)} of ${where}`),
      undefined,
    );
    if (entry) buffered.push({ ordinal, entry });
  }
  // The rules' order: sequenced events by seq, then unsequenced ones in arrival order.
  buffered.sort((a, b) => {
    const sa = a.entry.event.seq;
    const sb = b.entry.event.seq;
    if (sa !== undefined && sb !== undefined) return sa - sb;
    if (sa !== undefined) return -1;
    if (sb !== undefined) return 1;
    return a.ordinal - b.ordinal;
  });
  // A snapshot that cannot be read is handed over as an error, not thrown: the gatekeeper holds
  // the entity (keeping its events) instead of failing every event of it, and of its partition.
  let snapshot: PersistedSnapshot | undefined;
  let snapshotError: string | undefined;
  if (fields.s !== undefined) {
    try {
      snapshot = parseSnapshot(fields.s);
    } catch (error) {
      snapshotError = `the stored snapshot of ${where} cannot be read: ${messageOf(error)}`;
    }
  }
  return {
    version: integer(version, `version of ${where}`),
    lastSeq:
      fields.q === undefined ? 0 : tolerant(() => integer(fields.q as string, `lastSeq of ${where}`), 0),
    snapshot,
    snapshotError,
    machineVersion: fields.m,
    held:
      fields.a === undefined
        ? undefined
        : tolerant(() => parse<HeldMark>(fields.a as string, `held mark of ${where}`), undefined),
    parked:
      fields.p === undefined
        ? undefined
        : tolerant(() => parse<ParkedEvent>(fields.p as string, `parked event of ${where}`), undefined),
    seenIds:
      fields.w === undefined
        ? []
        : tolerant(() => parse<string[]>(fields.w as string, `seen ids of ${where}`), []),
    lastTime:
      fields.t === undefined
        ? undefined
        : tolerant(() => timeMark(fields.t as string, `last applied time of ${where}`), undefined),
    buffer: buffered.map((item) => item.entry),
    corrupt: corrupt.length === 0 ? undefined : corrupt.join('; '),
  };
}

function parseSnapshot(text: string): PersistedSnapshot {
  const value = JSON.parse(text) as unknown;
  if (typeof value !== 'object' || value === null || Array.isArray(value))
    throw new TypeError(`not a JSON object: ${text.slice(0, 40)}`);
  return value as PersistedSnapshot;
}

export function parse<TValue>(text: string, what: string): TValue {
  try {
    return JSON.parse(text) as TValue;
  } catch (error) {
    throw new CorruptEntityError(`${what} is not valid JSON`, error);
  }
}

/** The last applied time is stored as `[time, id]`: compact, and checked because the rules compare it. */
export function timeMarkJson(mark: TimeMark): string {
  return JSON.stringify([mark.at, mark.id]);
}

function timeMark(text: string, what: string): TimeMark {
  const value = parse<unknown>(text, what);
  if (!Array.isArray(value) || value.length !== 2 || !value.every((part) => typeof part === 'string'))
    throw new CorruptEntityError(`${what} is not a [time, id] pair: ${JSON.stringify(text.slice(0, 80))}`);
  const [at, id] = value as [string, string];
  return { at, id };
}

function integer(text: string, what: string): number {
  const value = Number(text);
  if (!Number.isSafeInteger(value))
    throw new CorruptEntityError(`${what} is not an integer: ${JSON.stringify(text.slice(0, 50))}`);
  return value;
}
