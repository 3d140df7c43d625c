/**
 * A writing store's loads of one shard made in the same turn, sent as one loadBatch.lua call
 * instead of HGETALL + GET (+ EXISTS) each: a load costs a share of one command instead of two
 * or three. Each load keeps its own answer, in the shape the plain commands give.
 */
import { runScript, type RedisClient } from './scripts.ts';

/** A load's answer: the hash's fields, the marker (null when looked at and missing), the history list's existence. */
export type LoadAnswer = [Record<string, string>, string | null, number];

/** One load waiting for its shard's batch. */
export interface PendingLoad {
  stateKey: string;
  historyKey: string;
  resolve: (answer: LoadAnswer) => void;
  reject: (error: unknown) => void;
}

/**
 * Sends one shard's loads and settles each. `look.marker`: the namespace has markers (check the
 * shard's when an entity is not found); `look.history`: eviction is allowed (check the history
 * list of an entity without a hash).
 */
export function sendLoadBatch(
  client: RedisClient,
  markerKey: string,
  batch: readonly PendingLoad[],
  look: { marker: boolean; history: boolean },
): void {
  const keys = [markerKey];
  for (const pending of batch) keys.push(pending.stateKey, pending.historyKey);
  let reply: Promise<unknown>;
  try {
    reply = runScript(client, 'loadBatch', keys, [look.marker ? '1' : '0', look.history ? '1' : '0']);
  } catch (error) {
    for (const pending of batch) pending.reject(error);
    return;
  }
  reply.then(
    (answer) => {
      const list = answer as unknown[];
      const marker = list[0] === 1 ? 'marker' : null;
      batch.forEach((pending, index) =>
        pending.resolve([hashFields(list[1 + 2 * index] as string[]), marker, Number(list[2 + 2 * index])]),
      );
    },
    (error: unknown) => {
      for (const pending of batch) pending.reject(error);
    },
  );
}

/** A flat HGETALL answer as an object, as ioredis' HGETALL makes it. */
function hashFields(flat: readonly string[]): Record<string, string> {
  const fields: Record<string, string> = {};
  for (let i = 0; i + 1 < flat.length; i += 2) {
    const field = flat[i] as string;
    // A field named like a prototype key stays an own property.
    if (field in fields)
      Object.defineProperty(fields, field, { value: flat[i + 1], enumerable: true, writable: true });
    else fields[field] = flat[i + 1] as string;
  }
  return fields;
}
