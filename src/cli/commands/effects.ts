/**
 * `gatekeeper effects list|retry|skip`: the transition handler's failure log and its operator
 * verbs (docs/effects.md). They act on the store only, so they need no handler and no machines:
 * `retry` puts the failed effect back at the head of the entity's holding list and `skip` drops it;
 * the process that runs the entity's shard then runs what is held, in order (within its idle poll).
 */
import type { EffectStore, StoredEffectFailure } from '../../store/effect-queue.ts';
import { retryFailedEffect, skipFailedEffect } from '../../gatekeeper/effects/effects-engine.ts';
import { booleanFlag, EXIT, intFlag, stringFlag, write, type Command, type FlagValues } from '../command.ts';
import { storeUse } from '../open-gatekeeper.ts';
import { openStore, STORE_USAGE, storeOptions } from '../open-store.ts';
import { UsageError } from '../usage-error.ts';
import { formatAge } from './operator-format.ts';

export const effectsCommand: Command = {
  name: 'effects',
  usage: `Usage: gatekeeper effects list [--json] [--limit <n>] [--redis <url>]
       gatekeeper effects retry|skip --aggregate <a> --key <k> [--redis <url>]
       gatekeeper effects retry|skip <aggregate> <key> [--redis <url>]

The transition handler's failure log: transitions whose handler failed its last attempt, each
holding its entity's later effects. list prints them (oldest first) with the error, the attempts
and how many effects wait behind each. retry runs the failed transition again and then the held
ones in order; skip moves past it (it is recorded as skipped) and releases the held ones. Both
are carried out by the process running the entity's partition. Exits 1 when the entity has no
failed effect.

${STORE_USAGE}`,
  options: {
    json: { type: 'boolean' },
    limit: { type: 'string' },
    aggregate: { type: 'string' },
    key: { type: 'string' },
    ...storeOptions,
  },
  positionals: true,
  async run(flags, positionals, io) {
    const [verb, ...rest] = positionals;
    if (verb !== 'list' && verb !== 'retry' && verb !== 'skip')
      throw new UsageError('expected list, retry or skip: gatekeeper effects list|retry|skip');
    if (verb === 'list' && rest.length > 0) throw new UsageError('effects list takes no arguments');
    const ref = verb === 'list' ? undefined : entityOf(flags, rest);
    const store = await openStore(flags, storeUse(io, verb === 'list' ? 'read' : 'write'));
    try {
      const effects = store.effects;
      if (!effects) throw new UsageError('this store keeps no effects');
      if (!ref) return await list(effects, flags, io.stdout);
      if (verb === 'retry') {
        await retryFailedEffect(effects, ref);
        write(
          io.stdout,
          `${ref.aggregate}/${ref.key}: its failed effect runs again, then its held ones in order`,
        );
      } else {
        const skipped = await skipFailedEffect(effects, ref);
        write(
          io.stdout,
          `${ref.aggregate}/${ref.key}: skipped ${skipped.idempotencyKey}; ${skipped.heldCount} held effect(s) are released in order`,
        );
      }
      return EXIT.ok;
    } finally {
      await store.close();
    }
  },
};

function entityOf(flags: FlagValues, rest: string[]): { aggregate: string; key: string } {
  const aggregate = stringFlag(flags, 'aggregate') ?? rest[0];
  const key = stringFlag(flags, 'key') ?? rest[1];
  const extra = rest.length - (stringFlag(flags, 'aggregate') === undefined ? 2 : 0);
  if (aggregate === undefined || key === undefined || extra > 0)
    throw new UsageError('expected the entity: --aggregate <a> --key <k> (or <aggregate> <key>)');
  return { aggregate, key };
}

async function list(effects: EffectStore, flags: FlagValues, out: NodeJS.WritableStream): Promise<number> {
  const failures = await effects.failures(intFlag(flags, 'limit', 1_000));
  if (booleanFlag(flags, 'json')) {
    for (const failure of failures) write(out, JSON.stringify(failure));
    return EXIT.ok;
  }
  if (failures.length === 0) write(out, 'no failed effects');
  const now = Date.now();
  for (const failure of failures) write(out, describeFailure(failure, now));
  return EXIT.ok;
}

function describeFailure(failure: StoredEffectFailure, now: number): string {
  return [
    `${failure.aggregate}/${failure.key}  ${failure.transition.type} (${failure.idempotencyKey})`,
    `  failed ${failure.attempts} attempts, last ${formatAge(now - failure.failedAt)} ago: ${failure.error}`,
    `  ${failure.heldCount} later effect(s) held; gatekeeper effects retry|skip --aggregate ${failure.aggregate} --key ${failure.key}`,
  ].join('\n');
}
