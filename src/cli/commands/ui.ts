/**
 * `gatekeeper ui`: the local web view. Serves the machines (laid out by ELK), live counts and an
 * entity search on 127.0.0.1; with --demo it also gates the demo stream, paced, so the counts move.
 */
import { setTimeout as delay } from 'node:timers/promises';
import { demoStream } from '../../demo/stream.ts';
import type { Gatekeeper } from '../../gatekeeper/gatekeeper.ts';
import { parsePort } from '../../observe/observers.ts';
import { startUiServer } from '../../observe/ui/ui-server.ts';
import { booleanFlag, EXIT, intFlag, stringFlag, write, type Command } from '../command.ts';
import { openObservedGatekeeper } from '../open-gatekeeper.ts';
import { STORE_USAGE, storeOptions } from '../open-store.ts';

export const uiCommand: Command = {
  name: 'ui',
  usage: `Usage: gatekeeper ui [--machines <module>] [--port 4400] [--host 127.0.0.1] [--redis <url>]
                     [--demo [--entities 2000] [--rate 400] [--seed 42]] [--metrics-port <port>] [--inspect <ws-url>]

Serves a page (default http://127.0.0.1:4400/) that draws every machine of the registry, with the
number of entities in each state, buffered / parked / stalled counts and rejection reasons, updated
live while events are decided in this process. Search an entity key to see its path highlighted
on its machine (states visited, transitions numbered in order) and its decision history.

  --demo                 gate the demo stream (shuffled, duplicated, a few illegal events) in this
                         process, --rate events per second, so the page moves; then keep serving
  --port <port>          0 picks a free port
  --host <host>          listen address (default 127.0.0.1; the page shows entity keys and events)
  --metrics-port <port>  also serve Prometheus metrics on http://127.0.0.1:<port>/metrics
  --inspect <ws-url>     send XState inspection events to a WebSocket server (Stately Inspector)
${STORE_USAGE}

With a shared store (--redis), search, history and the parked/stalled lists see every process's
entities; the counts per state cover what this process decides.

Runs until Ctrl-C.`,
  options: {
    machines: { type: 'string' },
    port: { type: 'string' },
    host: { type: 'string' },
    demo: { type: 'boolean' },
    entities: { type: 'string' },
    rate: { type: 'string' },
    seed: { type: 'string' },
    'metrics-port': { type: 'string' },
    inspect: { type: 'string' },
    ...storeOptions,
  },
  async run(flags, _positionals, io) {
    const port = parsePort('port', stringFlag(flags, 'port')) ?? 4400;
    const metricsPort = parsePort('metrics-port', stringFlag(flags, 'metrics-port'));
    const demo = booleanFlag(flags, 'demo');
    const entities = intFlag(flags, 'entities', 2_000);
    const rate = intFlag(flags, 'rate', 400);
    const seed = intFlag(flags, 'seed', 42);
    const { gatekeeper, observers } = await openObservedGatekeeper(flags, io, {
      machinesModule: stringFlag(flags, 'machines'),
      metricsPort,
      // Without --demo the view only reads what other processes decided.
      access: demo ? 'write' : 'read',
    });
    try {
      const gated = await observers.attach(gatekeeper);
      const server = await startUiServer({
        gatekeeper,
        port,
        host: stringFlag(flags, 'host') ?? '127.0.0.1',
      });
      try {
        write(io.stdout, `gatekeeper ui: ${server.url} (Ctrl-C to stop)`);
        if (!isLoopback(stringFlag(flags, 'host') ?? '127.0.0.1')) {
          write(
            io.stderr,
            'gatekeeper ui: not bound to loopback: anyone who can reach this port sees entity keys and events',
          );
        }
        const stop = io.stopSignal();
        if (demo) {
          const stopped = { value: false };
          void stop.then(() => (stopped.value = true));
          const decided = await feedPaced(gated, demoStream({ entities, seed }).inputs, rate, stopped);
          if (!stopped.value) write(io.stdout, `demo: ${decided} records gated; still serving ${server.url}`);
        }
        await stop;
        return EXIT.ok;
      } finally {
        await server.close();
      }
    } finally {
      await observers.close();
      await gatekeeper.close();
    }
  },
};

/** Hands `inputs` to the gatekeeper at about `rate` per second, in 100 ms slices, until done or stopped. */
async function feedPaced(
  gatekeeper: Gatekeeper,
  inputs: readonly unknown[],
  rate: number,
  stopped: { value: boolean },
) {
  const slice = Math.max(1, Math.round(rate / 10));
  let sent = 0;
  while (sent < inputs.length && !stopped.value) {
    const started = Date.now();
    const batch = inputs.slice(sent, sent + slice);
    await gatekeeper.handleBatch(batch);
    sent += batch.length;
    // Pacing, not synchronisation: the point is that a person can watch the counts move.
    await delay(Math.max(0, 100 - (Date.now() - started)), undefined, { ref: false });
  }
  return sent;
}

function isLoopback(host: string): boolean {
  return host === 'localhost' || host === '::1' || host.startsWith('127.');
}
