/**
 * The effects queue of the Redis store (see ../effect-queue.ts and keys.ts for the layout): the
 * per-shard effects stream that commitBatch.lua appends to, the failure log, the holding lists and
 * the attempt counts. Every write runs in a script that checks the shard's claim first when the
 * store is fenced, so a member that lost a partition acknowledges, fails or releases nothing of it.
 */
import { ShardFencedError } from '../../core/errors.ts';
import { transitionIdentity } from '../../core/transition-identity.ts';
import type { AppliedTransition } from '../../core/outcome.ts';
import type {
  BlockedEntities,
  EffectFailureNote,
  EffectRow,
  EffectShard,
  EffectStore,
  StoredEffectFailure,
} from '../effect-queue.ts';
import type { EntityRef } from '../entity-store.ts';
import { parse } from './codec.ts';
import { decodeEntityId, type KeySpace } from './keys.ts';
import { runScript, type RedisClient, type ScriptName } from './scripts.ts';
import type { ShardClaims } from './shard-claims.ts';
import type { RunOperation } from './store-operations.ts';

export interface RedisEffectsContext {
  client: RedisClient;
  /** The key space in use now (an operator tool may adopt the recorded layout after opening). */
  keys(): KeySpace;
  claims: ShardClaims | undefined;
  run: RunOperation;
  enabled: boolean;
}

/** The effects part of a Redis store. */
export function redisEffects(context: RedisEffectsContext): EffectStore {
  const { client, run } = context;
  const failureOf = (ref: EntityRef, value: string, heldCount: number): StoredEffectFailure => {
    const newline = value.indexOf('\n');
    const note = parse<EffectFailureNote>(
      value.slice(0, newline),
      `effect failure of ${ref.aggregate}/${ref.key}`,
    );
    const held = parseHeld(value.slice(newline + 1), `effect failure of ${ref.aggregate}/${ref.key}`);
    return { ...ref, idempotencyKey: held.identity, transition: held.transition, ...note, heldCount };
  };
  // The sharding alone: KeySpace.entity() would build and cache key names for every transition.
  const shardOf = (ref: EntityRef) => context.keys().sharding.shardOf(ref);
  return {
    enabled: context.enabled,
    shards: () => Array.from({ length: context.keys().shards }, (_, shard) => shard),
    shardQueue: (shard) => shardQueue(context, shard),
    shardOf,
    failures: (limit) =>
      run('effect failures', async () => {
        const keys = context.keys();
        const shards = Array.from({ length: keys.shards }, (_, shard) => keys.shard(shard));
        const logs = await Promise.all(shards.map((shardKeys) => client.hgetall(shardKeys.effectsFailed)));
        const entries = logs.flatMap((log) => Object.entries(log));
        const failures = await Promise.all(
          entries.map(async ([member, value]) => {
            const ref = decodeEntityId(member);
            if (!ref) return undefined;
            return failureOf(ref, value, await client.llen(keys.entity(ref).effectsHeld));
          }),
        );
        return failures
          .filter((failure): failure is StoredEffectFailure => failure !== undefined)
          .sort((a, b) => a.failedAt - b.failedAt)
          .slice(0, limit);
      }),
    failure: (ref) =>
      run('effect failure', async () => {
        const keys = context.keys().entity(ref);
        const [value, held] = await Promise.all([
          client.hget(context.keys().shard(keys.shard).effectsFailed, keys.member),
          client.llen(keys.effectsHeld),
        ]);
        return value === null ? undefined : failureOf(ref, value, held);
      }),
    heldCount: (ref) => run('held effects', () => client.llen(context.keys().entity(ref).effectsHeld)),
    retry: (ref) =>
      run('retry effect', async () => {
        const keys = context.keys().entity(ref);
        const shardKeys = context.keys().shard(keys.shard);
        const reply = await runScript(
          client,
          'retryEffect',
          [shardKeys.effectsFailed, keys.effectsHeld, shardKeys.effectsHolding, shardKeys.effectsAttempts],
          [keys.member],
        );
        return Number(reply) === 1;
      }),
    skip: (ref) =>
      run('skip effect', async () => {
        const keys = context.keys().entity(ref);
        const shardKeys = context.keys().shard(keys.shard);
        const [reply, held] = await Promise.all([
          runScript(
            client,
            'skipEffect',
            [shardKeys.effectsFailed, shardKeys.effectsSkipped],
            [keys.member, Date.now()],
          ),
          client.llen(keys.effectsHeld),
        ]);
        return typeof reply === 'string' ? failureOf(ref, reply, held) : undefined;
      }),
  };
}

/** One shard's queue as its runner uses it. */
function shardQueue(context: RedisEffectsContext, shard: number): EffectShard {
  const { client, run, claims } = context;
  const shardKeys = () => context.keys().shard(shard);
  // A runner is bound to the claim it was started under: after the member claimed the shard again
  // (a rebalance gave it back), the old runner's writes and checks fail, so it cannot go on with
  // rows it read before; only the runner started for the new claim runs them.
  const bound = claims?.has(shard) ? claims.epochFor(shard) : undefined;
  const epoch = () => {
    if (!claims) return '';
    if (bound === undefined || !claims.has(shard) || claims.epochFor(shard) !== bound)
      throw new ShardFencedError(
        shard,
        `shard ${shard}: this effect runner's claim (epoch ${bound ?? 'none'}) is no longer this process's; nothing was written`,
      );
    return bound;
  };
  /** Runs a fenced script; -2 means another member claimed the shard since. */
  const fenced = async (name: ScriptName, keys: string[], args: (string | number)[]): Promise<number> => {
    const reply = Number(await runScript(client, name, keys, [epoch(), ...args]));
    if (reply === -2 && claims) {
      // Forget the claim only when it is still the one this runner was bound to (not a newer one).
      if (claims.has(shard) && claims.epochFor(shard) === bound) throw claims.fenced(shard);
      throw new ShardFencedError(shard, `shard ${shard} was claimed again since this effect runner started`);
    }
    return reply;
  };
  const attemptsOf = async (identities: string[], counted?: Promise<number>): Promise<number[]> => {
    if (identities.length === 0 || (await (counted ?? client.exists(shardKeys().effectsAttempts))) === 0)
      return identities.map(() => 0);
    const counts = await client.hmget(shardKeys().effectsAttempts, ...identities);
    return counts.map((count) => Number(count ?? 0));
  };
  return {
    shard,
    read: (after, limit) =>
      run(`read effects of shard ${shard}`, async () => {
        const from = after === undefined ? '-' : nextStreamId(after);
        // Sent together: most reads find no attempt counts and need nothing more.
        const counted = client.exists(shardKeys().effectsAttempts).catch(() => 1);
        const entries = await client.xrange(shardKeys().effects, from, '+', 'COUNT', limit);
        const rows = entries.map(([id, fields]) => {
          const transition = parse<AppliedTransition>(fields[1] ?? '', `effect ${id} of shard ${shard}`);
          return { id, transition, identity: transitionIdentity(transition), failures: 0 };
        });
        const attempts = await attemptsOf(
          rows.map((row) => row.identity),
          counted,
        );
        rows.forEach((row, index) => (row.failures = attempts[index] ?? 0));
        return rows;
      }),
    ack: (rows) =>
      run(`acknowledge effects of shard ${shard}`, async () => {
        const keys = shardKeys();
        for (let at = 0; at < rows.length; at += 500) {
          const args = rows.slice(at, at + 500).flatMap((row) => [row.id, row.identity]);
          await fenced('ackEffects', [keys.owner, keys.effects, keys.effectsAttempts], args);
        }
      }),
    hold: (ref, rows) =>
      run(`hold effects of shard ${shard}`, async () => {
        const keys = shardKeys();
        const entity = context.keys().entity(ref);
        const args = rows.flatMap((row) => [row.id, heldEntry(row)]);
        await fenced(
          'holdEffects',
          [keys.owner, keys.effects, entity.effectsHeld, keys.effectsHolding],
          [entity.member, ...args],
        );
      }),
    firstHeld: (ref) =>
      run(`read held effects of shard ${shard}`, async () => {
        const head = await client.lindex(context.keys().entity(ref).effectsHeld, 0);
        if (head === null) return undefined;
        const held = parseHeld(head, `held effect of ${ref.aggregate}/${ref.key}`);
        const [failures] = await attemptsOf([held.identity]);
        return { id: `held:${held.identity}`, ...held, failures: failures ?? 0 };
      }),
    releaseFirst: (ref, row) =>
      run(`release held effect of shard ${shard}`, () => {
        const keys = shardKeys();
        const entity = context.keys().entity(ref);
        return fenced(
          'releaseHeldEffect',
          [keys.owner, entity.effectsHeld, keys.effectsHolding, keys.effectsAttempts],
          [entity.member, row.identity],
        );
      }),
    countFailure: (row) =>
      run(`count effect failure of shard ${shard}`, () =>
        fenced('countEffectFailure', [shardKeys().owner, shardKeys().effectsAttempts], [row.identity]),
      ),
    fail: (ref, row, from, note) =>
      run(`fail effect of shard ${shard}`, async () => {
        const keys = shardKeys();
        const entity = context.keys().entity(ref);
        await fenced(
          'failEffect',
          [
            keys.owner,
            keys.effects,
            entity.effectsHeld,
            keys.effectsHolding,
            keys.effectsFailed,
            keys.effectsAttempts,
          ],
          [entity.member, from === 'queue' ? row.id : '', row.identity, JSON.stringify(note), heldEntry(row)],
        );
      }),
    blocked: () =>
      run(`blocked effects of shard ${shard}`, async (): Promise<BlockedEntities> => {
        const [failed, holding] = await Promise.all([
          client.hkeys(shardKeys().effectsFailed),
          client.smembers(shardKeys().effectsHolding),
        ]);
        const failedSet = new Set(failed);
        const refs = (members: string[]) => members.flatMap((member) => decodeEntityId(member) ?? []);
        return { failed: refs(failed), holding: refs(holding.filter((member) => !failedSet.has(member))) };
      }),
    backlog: () => run(`effects backlog of shard ${shard}`, () => client.xlen(shardKeys().effects)),
    ...(claims
      ? {
          stillOwned: () =>
            run(`check the claim on shard ${shard}`, async () => {
              if (bound === undefined || !claims.has(shard) || claims.epochFor(shard) !== bound) return false;
              return (await client.hget(shardKeys().owner, 'epoch')) === bound;
            }),
        }
      : {}),
  };
}

/** A holding-list entry: the identity first, so scripts can match the head without parsing JSON. */
function heldEntry(row: EffectRow): string {
  return `${row.identity}|${JSON.stringify(row.transition)}`;
}

function parseHeld(entry: string, what: string): { identity: string; transition: AppliedTransition } {
  const bar = entry.indexOf('|');
  return { identity: entry.slice(0, bar), transition: parse<AppliedTransition>(entry.slice(bar + 1), what) };
}

/** The stream id right after `id` (XRANGE with an exclusive start, on Redis before 6.2 too). */
function nextStreamId(id: string): string {
  const dash = id.indexOf('-');
  return `${id.slice(0, dash)}-${Number(id.slice(dash + 1)) + 1}`;
}
