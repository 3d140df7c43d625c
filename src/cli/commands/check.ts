/**
 * `gatekeeper check`: NDJSON events in (file or stdin), one NDJSON outcome line out per outcome
 * as it happens; with --final, one line per entity at the end.
 *
 * Every decision is reported: outcomes are printed in input order as they settle, and when a
 * decision fails (the store failed mid-stream) reading stops, every decision still in flight is
 * awaited and printed, and a failed one gets an `"outcome":"unknown"` line naming its input line
 * (it may or may not have been committed). No promise is ever left to reject unobserved.
 */
import type { Outcome } from '../../core/outcome.ts';
import { MAX_JSON_DEPTH } from '../../core/json-depth.ts';
import { GatekeeperError, InvalidConfigError, messageOf, StoreRefusedError } from '../../core/errors.ts';
import { booleanFlag, EXIT, intFlag, stringFlag, write, type Command } from '../command.ts';
import { handleInputLine, identityOf, type HandledLine, type LineIdentity } from '../check-input.ts';
import { openObservedGatekeeper } from '../open-gatekeeper.ts';
import { storeOptions } from '../open-store.ts';
import { Progress } from '../progress.ts';
import { DEFAULT_MAX_LINE_BYTES, readLines } from '../read-lines.ts';
import { outcomeLine } from './operator-format.ts';

/** In-flight events; outcome lines of one entity still come out in order. */
const WINDOW = 256;
/** In-flight input bytes: with lines up to 1 MiB, 256 of them would hold 256 MiB. */
const WINDOW_BYTES = 16 * 1_048_576;
/** Default bytes of a refused input kept on its dead letter. */
const DEFAULT_DEAD_LETTER_BYTES = 4_096;

/** One input line on its way: settled exactly once, with its result or its failure. */
interface Pending {
  line: number;
  bytes: number;
  identity: LineIdentity;
  settled: Promise<void>;
  handled?: HandledLine;
  failed?: unknown;
  done: boolean;
}

export const checkCommand: Command = {
  name: 'check',
  usage: `Usage: gatekeeper check --machines <module> [file] [--final] [--quiet] [--inspect <ws-url>]
       [--max-line-bytes 1048576] [--max-depth ${MAX_JSON_DEPTH}] [--max-dead-letter-bytes ${DEFAULT_DEAD_LETTER_BYTES}]

Reads one event envelope per line from <file> (or stdin) and writes one JSON line per outcome:
{"id","aggregate","key","seq","type","outcome","reason","state","detail"}. A buffered event gets a
"buffered" line now and an "applied"/"discarded"/"rejected" line when the drain reaches it.
Lines that are not JSON, not UTF-8 or nested deeper than --max-depth are rejected
(invalid-envelope) with their line number; lines longer than --max-line-bytes are rejected
(input-too-large) with their size, without being held in memory. Dead letters keep at most
--max-dead-letter-bytes of a refused line, with its size and SHA-256. --final adds, after the
stream, {"final":true,"aggregate","key","state","seq","buffered"} for every entity seen.

If the store fails mid-stream, reading stops, every outcome already decided is printed, each line
whose decision failed gets {"line","outcome":"unknown","detail"} (it may or may not have been
committed), or {"outcome":"not-committed"} when the store refused it or found its data lost, and
check exits 3. Exit codes: 0 done, 1 input or store unusable, 2 usage, 3 stopped
by a failed decision.`,
  options: {
    machines: { type: 'string' },
    final: { type: 'boolean' },
    quiet: { type: 'boolean' },
    inspect: { type: 'string' },
    'max-line-bytes': { type: 'string' },
    'max-depth': { type: 'string' },
    'max-dead-letter-bytes': { type: 'string' },
    ...storeOptions,
  },
  positionals: true,
  async run(flags, positionals, io) {
    const limits = {
      maxLineBytes: intFlag(flags, 'max-line-bytes', DEFAULT_MAX_LINE_BYTES),
      maxDepth: intFlag(flags, 'max-depth', MAX_JSON_DEPTH),
      keepBytes: intFlag(flags, 'max-dead-letter-bytes', DEFAULT_DEAD_LETTER_BYTES),
    };
    const { gatekeeper, observers } = await openObservedGatekeeper(flags, io, {
      machinesModule: stringFlag(flags, 'machines'),
    });
    const progress = new Progress(io.stderr, io.interactive && !booleanFlag(flags, 'quiet'));
    try {
      // Waits (bounded) for the inspector, if any, before input is opened.
      await observers.attach(gatekeeper);
      const lines = readLines(positionals[0], io.stdin, limits);
      const entities = new Map<string, { aggregate: string; key: string }>();
      const queue: Pending[] = [];
      const unknown: number[] = [];
      const notCommitted: number[] = [];
      let firstFailed: Pending | undefined;
      let failure = false;
      let bytesInFlight = 0;
      const print = (outcome: Outcome, line?: number) => {
        progress.outcome(outcome.outcome);
        write(io.stdout, outcomeLine(outcome, line));
      };
      // Prints the settled head of the queue, in input order; called whenever a line settles.
      const flush = () => {
        while (queue.length > 0 && (queue[0] as Pending).done) {
          const pending = queue.shift() as Pending;
          if (pending.handled) {
            const { result, entity } = pending.handled;
            if (entity) entities.set(`${entity.aggregate}\u0000${entity.key}`, entity);
            for (const outcome of result.outcomes)
              print(outcome, outcome.id === null ? pending.line : undefined);
          } else {
            // Refused by the store, or lost data found on load: known not committed. Otherwise its
            // reply was lost: unknown.
            const refused =
              pending.failed instanceof StoreRefusedError ||
              (pending.failed instanceof GatekeeperError && pending.failed.code === 'STORE_RESET');
            (refused ? notCommitted : unknown).push(pending.line);
            firstFailed ??= pending;
            write(
              io.stdout,
              JSON.stringify({
                ...pending.identity,
                outcome: refused ? 'not-committed' : 'unknown',
                reason: refused ? 'store-refused' : 'reply-lost',
                line: pending.line,
                detail: messageOf(pending.failed),
              }),
            );
          }
        }
      };

      let readError: Error | undefined;
      let printError: Error | undefined;
      try {
        for await (const input of lines) {
          if (input.kind === 'text' && input.text.trim() === '') continue;
          progress.event();
          const pending: Pending = {
            line: input.number,
            bytes: input.bytes,
            identity: identityOf(undefined),
            settled: Promise.resolve(),
            done: false,
          };
          pending.settled = handleInputLine(input, gatekeeper, limits, (parsed) => {
            pending.identity = identityOf(parsed);
          }).then(
            (handled) => {
              pending.handled = handled;
            },
            (error: unknown) => {
              pending.failed = error;
              failure = true;
            },
          );
          void pending.settled
            .then(() => {
              pending.done = true;
              bytesInFlight -= pending.bytes;
              flush();
            })
            .catch((error: unknown) => {
              // Printing itself failed (a closed stdout): reported at the end, never left unhandled.
              printError ??= error instanceof Error ? error : new Error(String(error));
              failure = true;
            });
          queue.push(pending);
          bytesInFlight += pending.bytes;
          while (queue.length >= WINDOW || (bytesInFlight > WINDOW_BYTES && queue.length > 0))
            await (queue[0] as Pending).settled.then(() => Promise.resolve());
          if (failure) break;
        }
      } catch (error) {
        readError = new InvalidConfigError(`cannot read the input: ${messageOf(error)}`, error);
      }
      // Whatever happened, everything handed in is awaited and printed.
      await Promise.all(queue.map((pending) => pending.settled));
      await Promise.resolve();
      flush();
      progress.stop();
      if (printError !== undefined) throw printError;
      if (readError !== undefined) throw readError;
      if (firstFailed) {
        write(io.stderr, stoppedMessage(firstFailed, unknown, notCommitted));
        return EXIT.decisionFailed;
      }
      if (booleanFlag(flags, 'final')) {
        try {
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
        } catch (error) {
          write(
            io.stderr,
            `gatekeeper check: every outcome was printed, but --final could not read the entities: ${messageOf(error)}`,
          );
          return EXIT.decisionFailed;
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

function stoppedMessage(first: Pending, unknown: readonly number[], notCommitted: readonly number[]): string {
  const list = (lines: readonly number[]) =>
    lines.length > 20 ? `${lines.slice(0, 20).join(', ')} …` : lines.join(', ');
  const counts = [
    unknown.length > 0
      ? `${unknown.length} line(s) have an unknown outcome (printed as "unknown": the reply was lost, committed or not): ${list(unknown)}`
      : '',
    notCommitted.length > 0
      ? `${notCommitted.length} line(s) were refused by the store and not committed (printed as "not-committed"): ${list(notCommitted)}`
      : '',
  ].filter((part) => part !== '');
  return (
    `gatekeeper check: stopped at line ${first.line}: ${messageOf(first.failed)}\n` +
    `Every outcome decided was printed; ${counts.join('; ')}. Lines after them were not read. ` +
    'Run check again on the same input once the store is back: events already applied come back as discarded duplicates.'
  );
}
