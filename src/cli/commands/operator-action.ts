/**
 * `gatekeeper retry|skip <aggregate> <key>`: the operator actions on an entity parked on a rejected
 * event (policy "park"). retry tries the parked event again; skip moves past it; both then drain
 * what waited behind it. The decision is committed like any other (version-fenced), so it is safe
 * while gatekeepers are running against the same store.
 */
import { booleanFlag, EXIT, write, type Command } from '../command.ts';
import { withOperatorEntity, writing } from '../open-gatekeeper.ts';
import { STORE_USAGE, storeOptions } from '../open-store.ts';
import { describeOutcome, outcomeLine } from './operator-format.ts';

function operatorCommand(action: 'retry' | 'skip'): Command {
  const what =
    action === 'retry'
      ? 'tries the parked event again (the machine, its guards or the context may have changed since)'
      : 'moves the entity past its parked event without applying it';
  return {
    name: action,
    usage: `Usage: gatekeeper ${action} <aggregate> <key> [--json] [--machines <module>] [--redis <url>]

For an entity parked on a rejected event: ${what}, then applies
what was waiting behind it. Prints each outcome (--json: one JSON line each, as gatekeeper check).
Exits 1 when the entity is not parked.

${STORE_USAGE}`,
    options: {
      machines: { type: 'string' },
      json: { type: 'boolean' },
      ...storeOptions,
    },
    positionals: true,
    async run(flags, positionals, io) {
      return withOperatorEntity(flags, positionals, writing(io), async (gatekeeper, { aggregate, key }) => {
        const outcomes =
          action === 'retry' ? await gatekeeper.retry(aggregate, key) : await gatekeeper.skip(aggregate, key);
        for (const outcome of outcomes)
          write(io.stdout, booleanFlag(flags, 'json') ? outcomeLine(outcome) : describeOutcome(outcome));
        const after = await gatekeeper.inspect(aggregate, key);
        if (!booleanFlag(flags, 'json') && after) {
          write(
            io.stderr,
            `${aggregate}/${key} is now ${after.parked ? 'parked again' : 'not parked'}; ${after.buffered.length} event(s) still buffered`,
          );
        }
        return EXIT.ok;
      });
    },
  };
}

export const retryCommand = operatorCommand('retry');
export const skipCommand = operatorCommand('skip');
