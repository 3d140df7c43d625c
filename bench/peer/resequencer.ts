/**
 * The hand-written resequencer of the Redis benchmark (resequence-3.lua beside this file): what a
 * user would write instead of gatekeeper. Node's side is what such a peer needs and no more: a
 * shape check of the envelope (garbage is dropped), the event's JSON, one EVALSHA per event.
 */
import { readFileSync } from 'node:fs';
import type { Redis } from 'ioredis';

const LUA = readFileSync(new URL('./resequence-3.lua', import.meta.url), 'utf8');

type ResequenceCall = (
  hash: string,
  held: string,
  outbox: string,
  seq: number,
  event: string,
) => Promise<number>;

/** One round's resequencer on `client`, keys under `prefix`; one outbox stream, as on a single Redis. */
export function resequencer(client: Redis, prefix: string): (input: unknown) => Promise<number> {
  client.defineCommand('benchResequence', { numberOfKeys: 3, lua: LUA });
  const call = (client as unknown as { benchResequence: ResequenceCall }).benchResequence.bind(client);
  return async (input) => {
    if (typeof input !== 'object' || input === null) return -2;
    const { aggregate, key, seq } = input as { aggregate?: unknown; key?: unknown; seq?: unknown };
    if (typeof aggregate !== 'string' || typeof key !== 'string' || typeof seq !== 'number') return -2;
    const tag = `{${prefix}:${aggregate}:${key}}`;
    return call(`${tag}:s`, `${tag}:h`, `{${prefix}}:outbox`, seq, JSON.stringify(input));
  };
}
