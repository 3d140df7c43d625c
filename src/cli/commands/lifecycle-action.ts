/**
 * `gatekeeper migrate <aggregate> [<key>]` and `gatekeeper reset <aggregate> <key>`: the operator
 * verbs for held entities (see docs/changing-machines.md). migrate loads the entity again under
 * the deployed machines: migrated or restamped, its held events drained, or still held with the
 * reason; without a key, every held entity of the aggregate. reset starts it from the machine's
 * initial state. Both are version-fenced decisions like any other, safe while gatekeepers run.
 */
import { OperatorActionError } from '../../core/errors.ts';
import { booleanFlag, EXIT, write, type Command } from '../command.ts';
import { requireAggregate, withOperatorEntity, withOperatorGatekeeper } from '../open-gatekeeper.ts';
import { STORE_USAGE, storeOptions } from '../open-store.ts';
import { UsageError } from '../usage-error.ts';
import { describeOutcome, outcomeLine } from './operator-format.ts';

export const migrateCommand: Command = {
  name: 'migrate',
  usage: `Usage: gatekeeper migrate <aggregate> [<key>] [--json] [--machines <module>] [--redis <url>]

Loads the entity (without <key>: every held entity of <aggregate>) again under the machines of
--machines: its snapshot is migrated by the aggregate's migrate, or restamped when it restores
unchanged, and the events held for it are drained. An entity that still cannot be loaded stays
held and its reason is printed. Prints each outcome (--json: one JSON line each). Exits 1 when an
entity stays held or there is nothing to migrate.

${STORE_USAGE}`,
  options: { machines: { type: 'string' }, json: { type: 'boolean' }, ...storeOptions },
  positionals: true,
  async run(flags, positionals, io) {
    const [aggregate, key, ...extra] = positionals;
    if (aggregate === undefined || extra.length > 0)
      throw new UsageError('expected <aggregate> and at most one <key>');
    return withOperatorGatekeeper(flags, async (gatekeeper) => {
      requireAggregate(gatekeeper, aggregate);
      const keys =
        key !== undefined
          ? [key]
          : (await gatekeeper.attention(100_000))
              .filter((entry) => entry.aggregate === aggregate && entry.reason !== 'parked-on-rejection')
              .map((entry) => entry.key);
      if (keys.length === 0) write(io.stderr, `gatekeeper migrate: no held ${aggregate} entities`);
      let failed = keys.length === 0;
      for (const one of keys) {
        try {
          const outcomes = await gatekeeper.migrate(aggregate, one);
          for (const outcome of outcomes)
            write(io.stdout, booleanFlag(flags, 'json') ? outcomeLine(outcome) : describeOutcome(outcome));
          write(io.stderr, `${aggregate}/${one}: migrated, ${outcomes.length} held event(s) decided`);
        } catch (error) {
          if (!(error instanceof OperatorActionError)) throw error;
          failed = true;
          write(io.stderr, `gatekeeper migrate: ${error.message}`);
        }
      }
      return failed ? EXIT.failure : EXIT.ok;
    });
  },
};

export const resetCommand: Command = {
  name: 'reset',
  usage: `Usage: gatekeeper reset <aggregate> <key> [--reset-seq] [--json] [--machines <module>] [--redis <url>]

Puts the entity in its machine's initial state under the current version (context included) and
drains its held events from there: each is applied, or rejected with its reason — none is lost.
Its seq is kept, so the events already decided are not taken again; --reset-seq sets it to 0
instead, for a producer that replays the entity's history from seq 1.

${STORE_USAGE}`,
  options: {
    machines: { type: 'string' },
    json: { type: 'boolean' },
    'reset-seq': { type: 'boolean' },
    ...storeOptions,
  },
  positionals: true,
  async run(flags, positionals, io) {
    return withOperatorEntity(flags, positionals, async (gatekeeper, { aggregate, key }) => {
      const outcomes = await gatekeeper.reset(aggregate, key, { resetSeq: booleanFlag(flags, 'reset-seq') });
      for (const outcome of outcomes)
        write(io.stdout, booleanFlag(flags, 'json') ? outcomeLine(outcome) : describeOutcome(outcome));
      const after = await gatekeeper.inspect(aggregate, key);
      if (after)
        write(
          io.stderr,
          `${aggregate}/${key} reset: state ${JSON.stringify(after.state)}, seq ${after.lastSeq}`,
        );
      return EXIT.ok;
    });
  },
};
