/**
 * `gatekeeper inspect <aggregate> <key>`: one entity as the store holds it — state, context, last
 * seq, version, the events waiting in its buffer, the event it is parked on and its last rejections.
 */
import type { EntityInspection } from '../../gatekeeper/gatekeeper.ts';
import { booleanFlag, EXIT, write, type Command } from '../command.ts';
import { reading, withOperatorEntity } from '../open-gatekeeper.ts';
import { STORE_USAGE, storeOptions } from '../open-store.ts';
import { describeState, formatAge } from './operator-format.ts';

export const inspectCommand: Command = {
  name: 'inspect',
  usage: `Usage: gatekeeper inspect <aggregate> <key> [--json] [--machines <module>] [--redis <url>]

Prints the entity as the store holds it: state and context, last applied seq, store version,
the events waiting in its buffer (oldest first, with how long each has waited), the event it is
parked on (policy "park") and its last rejections. Exits 1 when the store has no such entity.
--json prints the same as one JSON object.

${STORE_USAGE}
The embedded store starts empty in every process: point this at the Redis the gatekeeper writes to.`,
  options: {
    machines: { type: 'string' },
    json: { type: 'boolean' },
    ...storeOptions,
  },
  positionals: true,
  async run(flags, positionals, io) {
    return withOperatorEntity(flags, positionals, reading(io), async (gatekeeper, { aggregate, key }) => {
      const entity = await gatekeeper.inspect(aggregate, key);
      if (!entity) {
        write(io.stderr, `gatekeeper inspect: no entity ${aggregate}/${key} in this store`);
        return EXIT.failure;
      }
      write(
        io.stdout,
        booleanFlag(flags, 'json') ? JSON.stringify(entity) : renderInspection(entity, Date.now()),
      );
      return EXIT.ok;
    });
  },
};

export function renderInspection(entity: EntityInspection, now: number): string {
  const lines = [
    `${entity.aggregate}/${entity.key}`,
    `  state     ${describeState(entity.state)}${entity.status === 'done' ? ' (final)' : ''}`,
    `  seq       ${entity.lastSeq}`,
    `  version   ${entity.version}`,
    `  context   ${JSON.stringify(entity.context)}`,
    `  machine   version ${entity.storedVersion ?? '(none stored)'}${entity.storedVersion === entity.machineVersion ? '' : ` (this process runs ${entity.machineVersion})`}`,
  ];
  if (entity.held) {
    const { reason, detail, since } = entity.held;
    lines.push(`  held      ${reason} for ${formatAge(now - since)}: ${detail}`);
    lines.push(`            gatekeeper migrate|reset|skip ${entity.aggregate} ${entity.key}`);
  } else if (entity.pending) {
    lines.push(`  on load   ${entity.pending}`);
  }
  // Time mode only: what a timed event must come after to be applied.
  if (entity.lastTime) lines.splice(3, 0, `  time      ${entity.lastTime.at} (id ${entity.lastTime.id})`);
  if (entity.parked) {
    const { event, reason, detail, parkedAt } = entity.parked;
    lines.push(
      `  parked    on ${event.type} (id ${event.id}${event.seq === undefined ? '' : `, seq ${event.seq}`}) for ${formatAge(now - parkedAt)}: ${reason}: ${detail}`,
    );
    lines.push(`            gatekeeper retry|skip ${entity.aggregate} ${entity.key}`);
  }
  lines.push(`  buffered  ${entity.buffered.length === 0 ? 'none' : `${entity.buffered.length} event(s)`}`);
  for (const { event, receivedAt, rejection } of entity.buffered) {
    const seq = event.seq === undefined ? (event.time ?? 'no seq') : `seq ${event.seq}`;
    lines.push(
      `    ${seq.padEnd(8)} ${event.type}  id ${event.id}  waiting ${formatAge(now - receivedAt)}${rejection ? `  (already rejected: ${rejection.reason})` : ''}`,
    );
  }
  const failure = entity.effects?.failure;
  if (failure) {
    lines.push(
      `  effect    ${failure.idempotencyKey} failed ${failure.attempts} attempts ${formatAge(now - failure.failedAt)} ago: ${failure.error}`,
    );
    lines.push(
      `            ${entity.effects?.heldCount ?? 0} later effect(s) held; gatekeeper effects retry|skip ${entity.aggregate} ${entity.key}`,
    );
  } else if (entity.effects && entity.effects.heldCount > 0) {
    lines.push(`  effects   ${entity.effects.heldCount} held effect(s) being released in order`);
  }
  lines.push(`  rejected  ${entity.recentRejections.length === 0 ? 'none recently' : 'recently:'}`);
  for (const entry of entity.recentRejections) {
    lines.push(
      `    ${new Date(entry.at).toISOString()}  ${entry.type ?? '?'}${entry.seq === null ? '' : ` seq ${entry.seq}`}  ${entry.reason}${entry.detail ? `: ${entry.detail}` : ''}`,
    );
  }
  return lines.join('\n');
}
