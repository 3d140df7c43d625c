/**
 * `gatekeeper stalled`: entities whose oldest buffered event has waited longer than their
 * aggregate's stall limit (and, with --parked, entities stopped on a parked event).
 */
import { booleanFlag, EXIT, intFlag, write, type Command } from '../command.ts';
import { reading, withOperatorGatekeeper } from '../open-gatekeeper.ts';
import { STORE_USAGE, storeOptions } from '../open-store.ts';
import { formatAge } from './operator-format.ts';

export const stalledCommand: Command = {
  name: 'stalled',
  usage: `Usage: gatekeeper stalled [--parked] [--limit N] [--json] [--machines <module>] [--redis <url>]

Lists the entities whose oldest buffered event has waited longer than their aggregate's stall limit
(stallAfterMs), oldest first: aggregate, key, how long, and the limit. Nothing is changed: the
running gatekeeper's sweeper applies the stall policy. With --parked, lists the entities stopped
on a parked event and the held ones (their snapshot cannot be decided here: see gatekeeper
inspect, retry, skip, migrate, reset) instead. --json prints one JSON object per
line. --limit caps the list (default 1000).

${STORE_USAGE}`,
  options: {
    machines: { type: 'string' },
    parked: { type: 'boolean' },
    limit: { type: 'string' },
    json: { type: 'boolean' },
    ...storeOptions,
  },
  positionals: false,
  async run(flags, _positionals, io) {
    const limit = intFlag(flags, 'limit', 1_000);
    const json = booleanFlag(flags, 'json');
    return withOperatorGatekeeper(flags, reading(io), async (gatekeeper) => {
      if (booleanFlag(flags, 'parked')) {
        // One attention list: entities parked on a rejection and entities held (see inspect).
        const parked = await gatekeeper.attention(limit);
        for (const entry of parked)
          write(
            io.stdout,
            json
              ? JSON.stringify(entry)
              : `${entry.aggregate}/${entry.key}${entry.reason === 'parked-on-rejection' ? '' : `  held: ${entry.reason}`}`,
          );
        if (!json && parked.length === 0) write(io.stderr, 'gatekeeper stalled: no parked entities');
        return EXIT.ok;
      }
      const stalled = await gatekeeper.stalled(limit);
      for (const entry of stalled) {
        write(
          io.stdout,
          json
            ? JSON.stringify(entry)
            : `${entry.aggregate}/${entry.key}  oldest buffered event waiting ${formatAge(entry.ageMs)} (limit ${formatAge(entry.stallAfterMs)})`,
        );
      }
      if (!json && stalled.length === 0) write(io.stderr, 'gatekeeper stalled: no stalled entities');
      return EXIT.ok;
    });
  },
};
