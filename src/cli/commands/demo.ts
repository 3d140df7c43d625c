/**
 * `gatekeeper demo`: a shuffled, duplicated stream with some illegal events, gated on the
 * embedded store (or Redis), with a summary and a check against in-order processing.
 */
import { createGatekeeperWithStore } from '../../gatekeeper/gatekeeper.ts';
import { OUTCOMES } from '../../core/outcome.ts';
import { runDemo, totalOf, type DemoSummary } from '../../demo/run-demo.ts';
import { demoStream } from '../../demo/stream.ts';
import { booleanFlag, EXIT, intFlag, write, type Command } from '../command.ts';
import { loadMachines } from '../load-machines.ts';
import { openStore, storeOptions } from '../open-store.ts';
import { Progress } from '../progress.ts';

export const demoCommand: Command = {
  name: 'demo',
  summary: 'gate a generated out-of-order stream and check the result against in-order processing',
  usage: `Usage: gatekeeper demo [--entities 10000] [--seed 42] [--json] [--quiet]

Generates orders, customers and valves, shuffles their events, sends 10% twice, adds a few
illegal events and some garbage, gates them all, and prints outcomes by reason, events/s and
whether every entity ended where in-order processing puts it (exit code 1 if not).`,
  options: {
    entities: { type: 'string' },
    seed: { type: 'string' },
    json: { type: 'boolean' },
    quiet: { type: 'boolean' },
    ...storeOptions,
  },
  async run(flags, _positionals, io) {
    const entities = intFlag(flags, 'entities', 10_000);
    const seed = intFlag(flags, 'seed', 42);
    const stream = demoStream({ entities, seed });
    const gatekeeper = createGatekeeperWithStore({
      machines: await loadMachines(undefined),
      store: await openStore(flags),
      sweepIntervalMs: 0,
    });
    const json = booleanFlag(flags, 'json');
    const progress = new Progress(
      io.stderr,
      io.interactive && !json && !booleanFlag(flags, 'quiet'),
      stream.inputs.length,
    );
    try {
      const summary = await runDemo(gatekeeper, stream, {
        onEvent: () => progress.event(),
        onOutcome: (outcome) => progress.outcome(outcome.outcome),
      });
      progress.stop();
      write(io.stdout, json ? JSON.stringify(summary) : formatSummary(summary, stream.counts));
      return summary.mismatches.length === 0 ? EXIT.ok : EXIT.failure;
    } finally {
      progress.stop();
      await gatekeeper.close();
    }
  },
};

function formatSummary(summary: DemoSummary, counts: ReturnType<typeof demoStream>['counts']): string {
  const lines = [
    `Stream: ${summary.inputs.toLocaleString('en-US')} records for ${summary.entities.toLocaleString('en-US')} entities ` +
      `(${counts.events} events, ${counts.duplicates} sent twice, ${counts.illegal} illegal, ${counts.garbage} garbage), shuffled`,
    '',
    'outcome     reason                 count',
    '----------  --------------------  -------',
  ];
  for (const outcome of OUTCOMES) {
    for (const [reason, count] of Object.entries(summary.byReason[outcome] ?? {}).sort(
      (a, b) => b[1] - a[1],
    )) {
      lines.push(`${outcome.padEnd(10)}  ${reason.padEnd(20)}  ${String(count).padStart(7)}`);
    }
  }
  lines.push('----------  --------------------  -------');
  for (const outcome of OUTCOMES)
    lines.push(
      `${outcome.padEnd(10)}  ${'total'.padEnd(20)}  ${String(totalOf(summary, outcome)).padStart(7)}`,
    );
  lines.push('');
  lines.push(
    `Throughput: ${summary.eventsPerSec.toLocaleString('en-US')} events/s (${summary.seconds.toFixed(2)} s)`,
  );
  lines.push(
    summary.mismatches.length === 0
      ? `Check: ✓ all ${summary.entities.toLocaleString('en-US')} entities reached the state in-order processing gives`
      : `Check: ✗ ${summary.mismatches.length} of ${summary.entities} entities differ from in-order processing, e.g. ${JSON.stringify(summary.mismatches.slice(0, 3))}`,
  );
  return lines.join('\n');
}
