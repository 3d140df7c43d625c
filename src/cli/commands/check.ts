/**
 * `gatekeeper check`: NDJSON events in (file or stdin), one NDJSON outcome line out per outcome
 * as it happens; with --final, one line per entity at the end.
 */
import type { Gatekeeper, HandleResult } from '../../gatekeeper/gatekeeper.ts';
import type { Outcome } from '../../core/outcome.ts';
import { booleanFlag, EXIT, stringFlag, write, type Command } from '../command.ts';
import { openObservedGatekeeper } from '../open-gatekeeper.ts';
import { storeOptions } from '../open-store.ts';
import { Progress } from '../progress.ts';
import { readLines } from '../read-lines.ts';
import { outcomeLine } from './operator-format.ts';
import { messageOf } from '../../core/errors.ts';

/** In-flight events; outcome lines of one entity still come out in order. */
const WINDOW = 256;

export const checkCommand: Command = {
  name: 'check',
  usage: `Usage: gatekeeper check --machines <module> [file] [--final] [--quiet] [--inspect <ws-url>]

Reads one event envelope per line from <file> (or stdin) and writes one JSON line per outcome:
{"id","aggregate","key","seq","type","outcome","reason","state","detail"}. A buffered event gets a
"buffered" line now and an "applied"/"discarded"/"rejected" line when the drain reaches it.
Lines that are not JSON are rejected with their line number. --final adds, after the stream,
{"final":true,"aggregate","key","state","seq","buffered"} for every entity seen.`,
  options: {
    machines: { type: 'string' },
    final: { type: 'boolean' },
    quiet: { type: 'boolean' },
    inspect: { type: 'string' },
    ...storeOptions,
  },
  positionals: true,
  async run(flags, positionals, io) {
    const { gatekeeper, observers } = await openObservedGatekeeper(flags, io, {
      machinesModule: stringFlag(flags, 'machines'),
    });
    // Waits (bounded) for the inspector, if any, before input is opened.
    await observers.attach(gatekeeper);
    // Opened only now: readline drops lines emitted before its iterator is first pulled.
    const lines = readLines(positionals[0], io.stdin);
    const progress = new Progress(io.stderr, io.interactive && !booleanFlag(flags, 'quiet'));
    const entities = new Map<string, { aggregate: string; key: string }>();
    const print = (outcome: Outcome, line?: number) => {
      progress.outcome(outcome.outcome);
      write(io.stdout, outcomeLine(outcome, line));
    };
    try {
      // Events are decided concurrently (per-key order holds), but printed in input order, each
      // line's own outcome followed by whatever its arrival drained.
      let printed: Promise<void> = Promise.resolve();
      let inFlight = 0;
      let lineNumber = 0;
      for await (const text of lines) {
        lineNumber += 1;
        if (text.trim() === '') continue;
        progress.event();
        const line = lineNumber;
        const handled = handleLine(text, line, gatekeeper);
        handled.catch(() => undefined); // awaited in order below; this only keeps Node from calling it unhandled
        inFlight += 1;
        printed = printed.then(async () => {
          const { result, entity } = await handled;
          inFlight -= 1;
          if (entity) entities.set(`${entity.aggregate}\u0000${entity.key}`, entity);
          for (const outcome of result.outcomes) print(outcome, outcome.id === null ? line : undefined);
        });
        if (inFlight >= WINDOW) await printed;
      }
      await printed;
      progress.stop();
      if (booleanFlag(flags, 'final')) {
        for (const { aggregate, key } of entities.values()) {
          const entity = await gatekeeper.inspect(aggregate, key);
          if (!entity) continue;
          write(
            io.stdout,
            JSON.stringify({
              final: true,
              aggregate,
              key,
              state: entity.state,
              seq: entity.lastSeq,
              buffered: entity.buffered.length,
            }),
          );
        }
      }
      return EXIT.ok;
    } finally {
      progress.stop();
      await observers.close();
      await gatekeeper.close();
    }
  },
};

async function handleLine(
  text: string,
  line: number,
  gatekeeper: Gatekeeper,
): Promise<{ result: HandleResult; entity?: { aggregate: string; key: string } }> {
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (error) {
    const reason = messageOf(error);
    return { result: await gatekeeper.rejectUnparseable(text, `line ${line} is not JSON: ${reason}`) };
  }
  const result = await gatekeeper.handle(parsed);
  const own = result.outcome;
  const known = own.aggregate !== null && own.key !== null && gatekeeper.aggregates.has(own.aggregate);
  return known
    ? { result, entity: { aggregate: own.aggregate as string, key: own.key as string } }
    : { result };
}
