/**
 * `gatekeeper history <aggregate> <key>`: an entity's stored decisions as text, JSON, or its
 * machine's Mermaid diagram with the path it took. Reads whatever store the flags open.
 */
import { HISTORY_FORMATS, renderHistory, type HistoryFormat } from '../../observe/history/render-history.ts';
import { EXIT, stringFlag, write, type Command } from '../command.ts';
import { reading, withOperatorEntity } from '../open-gatekeeper.ts';
import { STORE_USAGE, storeOptions } from '../open-store.ts';
import { UsageError } from '../usage-error.ts';

export const historyCommand: Command = {
  name: 'history',
  usage: `Usage: gatekeeper history <aggregate> <key> [--format text|json|mermaid] [--machines <module>] [--redis <url>]

Prints the entity's bounded decision history from the store (newest kept; 100 per entity by
default): time, seq, event type, outcome, reason, state before → after, and whether the event came
from the buffer. --format mermaid prints the machine's stateDiagram-v2 with the visited states
highlighted, the applied transitions numbered in order, and the buffered, discarded and rejected
events noted beside the state they found the entity in.

The embedded store starts empty in every process, so point this at the shared store (--redis)
that the gatekeeper writes to.

${STORE_USAGE}`,
  options: {
    machines: { type: 'string' },
    format: { type: 'string', default: 'text' },
    ...storeOptions,
  },
  positionals: true,
  async run(flags, positionals, io) {
    const format = stringFlag(flags, 'format') ?? 'text';
    if (!(HISTORY_FORMATS as readonly string[]).includes(format)) {
      throw new UsageError(`--format must be one of ${HISTORY_FORMATS.join(', ')} (got ${format})`);
    }
    const use = reading(io);
    return withOperatorEntity(flags, positionals, use, async (gatekeeper, { aggregate, key, definition }) => {
      const history = await gatekeeper.history(aggregate, key);
      if (history.length === 0) {
        write(io.stderr, `gatekeeper history: no history for ${aggregate}/${key} in this store`);
        return EXIT.failure;
      }
      write(
        io.stdout,
        renderHistory(format as HistoryFormat, definition.machine, { aggregate, key }, history),
      );
      return EXIT.ok;
    });
  },
};
