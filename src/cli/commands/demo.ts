/**
 * `gatekeeper demo`: a shuffled, duplicated stream with some illegal events, gated on the
 * embedded store (or Redis), with a summary and a check against in-order processing.
 */
import { OUTCOMES } from '../../core/outcome.ts';
import { runDemo, totalOf, type DemoSummary } from '../../demo/run-demo.ts';
import { demoStream } from '../../demo/stream.ts';
import { parsePort } from '../../observe/observers.ts';
import { booleanFlag, EXIT, intFlag, stringFlag, write, type Command } from '../command.ts';
import { openObservedGatekeeper } from '../open-gatekeeper.ts';
import { storeOptions } from '../open-store.ts';
import { Progress } from '../progress.ts';

export const demoCommand: Command = {
  name: 'demo',
  usage: `Usage: gatekeeper demo [--entities 10000] [--seed 42] [--json] [--quiet] [--metrics-port <port>] [--inspect <ws-url>]

Generates orders, customers and valves, shuffles their events, sends 10% twice, adds a few
illegal events and some garbage, gates them all, and prints outcomes by reason, events/s and
whether every entity ended where in-order processing puts it (exit code 1 if not).

  --metrics-port <port>  serve Prometheus metrics on http://127.0.0.1:<port>/metrics; the demo then
                         keeps serving after the summary until Ctrl-C
  --inspect <ws-url>     send XState inspection events of every entity actor to a WebSocket server
                         (Stately Inspector protocol); an absent server never blocks the demo`,
  options: {
    entities: { type: 'string' },
    seed: { type: 'string' },
    json: { type: 'boolean' },
    quiet: { type: 'boolean' },
    'metrics-port': { type: 'string' },
    inspect: { type: 'string' },
    ...storeOptions,
  },
  async run(flags, _positionals, io) {
    const entities = intFlag(flags, 'entities', 10_000);
    const seed = intFlag(flags, 'seed', 42);
    const stream = demoStream({ entities, seed });
    const metricsPort = parsePort('metrics-port', stringFlag(flags, 'metrics-port'));
    const { gatekeeper, observers } = await openObservedGatekeeper(flags, io, {
      machinesModule: undefined,
      metricsPort,
      sweepIntervalMs: 0,
    });
    const json = booleanFlag(flags, 'json');
    const progress = new Progress(
      io.stderr,
      io.interactive && !json && !booleanFlag(flags, 'quiet'),
      stream.inputs.length,
    );
    try {
      const gated = await observers.attach(gatekeeper);
      const summary = await runDemo(gated, stream, {
        onEvent: () => progress.event(),
        onOutcome: (outcome) => progress.outcome(outcome.outcome),
      });
      progress.stop();
      write(io.stdout, json ? JSON.stringify(summary) : formatSummary(summary, stream.counts));
      const server = observers.metricsServer();
      if (server) {
        write(io.stderr, `still serving ${server.url}; press Ctrl-C to stop`);
        await io.stopSignal();
      }
      return summary.mismatches.length === 0 ? EXIT.ok : EXIT.failure;
    } finally {
      progress.stop();
      await observers.close();
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
