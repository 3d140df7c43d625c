/**
 * `gatekeeper versions`: the dry run of a machine change. For each aggregate of the given
 * machines: the version they stamp, how many stored entities are on each version, and how many
 * would stay current, carry on, migrate or be held — before you deploy. Read-only: it scans the
 * store (SCAN and HGETALL on Redis) and restores snapshots in memory; it writes nothing, not even
 * the namespace record, so it runs against a replica or as a read-only user.
 */
import { buildAggregates } from '../../core/aggregate.ts';
import type { EntityStore } from '../../store/entity-store.ts';
import { planVersions, type VersionPlan } from '../../gatekeeper/version-plan.ts';
import {
  booleanFlag,
  EXIT,
  stringFlag,
  write,
  type CliIO,
  type Command,
  type FlagValues,
} from '../command.ts';
import { machinesModule } from '../machines-flag.ts';
import { storeUse } from '../open-gatekeeper.ts';
import { openStore, STORE_USAGE, storeOptions } from '../open-store.ts';
import { UsageError } from '../usage-error.ts';

export const versionsCommand: Command = {
  name: 'versions',
  usage: `Usage: gatekeeper versions --machines <module> (--redis <url> | --redis-cluster <list>) [--json] [--list]

For each aggregate of <module>: the machine version it stamps (explicit, or a fingerprint of the
machine's structure), how many stored entities carry each version, and what loading them under
these machines would do: current (nothing), carry on (restores unchanged; restamped), migrate
(the aggregate's migrate applies) or held (with the reason: incompatible-snapshot, newer-version,
migration-threw, migration-invalid, corrupt-snapshot). Read-only: nothing is written.
--list prints every entity that would not stay current; --json one JSON object per aggregate.

${STORE_USAGE}`,
  options: {
    machines: { type: 'string' },
    json: { type: 'boolean' },
    list: { type: 'boolean' },
    ...storeOptions,
  },
  positionals: false,
  async run(flags, _positionals, io) {
    const module = stringFlag(flags, 'machines');
    if (module === undefined)
      throw new UsageError('--machines <module> is required: the machines you mean to deploy');
    const aggregates = buildAggregates(await machinesModule(module));
    const store = await openReadOnlyStore(flags, io);
    try {
      const plans = await planVersions(aggregates, store);
      for (const plan of plans) {
        if (booleanFlag(flags, 'json'))
          write(
            io.stdout,
            JSON.stringify(booleanFlag(flags, 'list') ? plan : { ...plan, entities: undefined }),
          );
        else write(io.stdout, formatPlan(plan, booleanFlag(flags, 'list')));
      }
    } finally {
      await store.close();
    }
    return EXIT.ok;
  },
};

export function formatPlan(plan: VersionPlan, list: boolean): string {
  const stored = Object.entries(plan.storedVersions);
  const lines = [
    `${plan.aggregate}: version ${plan.version}${plan.explicitVersion ? '' : ' (fingerprint)'}`,
    `  stored    ${stored.length === 0 ? 'no entities' : stored.map(([version, count]) => `${count} on ${version}`).join(', ')}`,
    `  would     ${plan.counts.current} stay current, ${plan.counts['carry-on']} carry on, ${plan.counts.migrate} migrate, ${plan.counts.held} be held`,
  ];
  for (const [reason, count] of Object.entries(plan.held)) lines.push(`  held      ${count} ${reason}`);
  if (list) {
    for (const entity of plan.entities) {
      if (entity.action === 'current') continue;
      lines.push(
        `    ${entity.key}  ${entity.storedVersion ?? 'unversioned'} → ${entity.action}${entity.reason ? ` (${entity.reason})` : ''}${entity.detail ? `: ${entity.detail}` : ''}`,
      );
    }
  }
  return lines.join('\n');
}

/** The store opened read-only (no namespace claim, every write refused): Redis only, it is the stored entities we check. */
async function openReadOnlyStore(flags: FlagValues, io: CliIO): Promise<EntityStore> {
  if (stringFlag(flags, 'redis') === undefined && stringFlag(flags, 'redis-cluster') === undefined)
    throw new UsageError(
      '--redis <url> or --redis-cluster <list> is required: the store whose entities to check',
    );
  return openStore(flags, storeUse(io, 'read'));
}
