/**
 * The embedded-store benchmark: the gatekeeper on the demo stream (shuffled, duplicated, with
 * illegal events and garbage) beside a baseline measured in the same run — the same events,
 * in order and once, sent to one live XState actor per entity with no gatekeeping.
 */
import { createActor, type AnyStateMachine } from 'xstate';
import machines from '../machines/index.ts';
import { createGatekeeper } from '../src/index.ts';
import { toMachineEvent } from '../src/core/envelope.ts';
import { feed } from '../src/demo/run-demo.ts';
import { demoStream } from '../src/demo/stream.ts';
import { median, rate } from './stats.ts';

export interface EmbeddedFigures {
  entities: number;
  inputs: number;
  rounds: number;
  eventsPerSec: number;
  baselineEventsPerSec: number;
  ratio: number;
  bytesPerResidentEntity: number;
  samples: { gatekeeper: number[]; baseline: number[] };
}

const registry = machines as Record<string, { machine: AnyStateMachine }>;

export async function benchEmbedded(
  options: { entities?: number; rounds?: number } = {},
): Promise<EmbeddedFigures> {
  const entities = options.entities ?? 10_000;
  const rounds = options.rounds ?? 7;
  const stream = demoStream({ entities });
  const inOrder = stream.histories.map((history) => ({
    machine: (registry[history[0]?.aggregate ?? ''] as { machine: AnyStateMachine }).machine,
    events: history.map(toMachineEvent),
  }));

  const gatekeeperRound = async () => {
    const gatekeeper = createGatekeeper({ machines, sweepIntervalMs: 0 });
    const inputs = structuredClone(stream.inputs);
    const started = performance.now();
    await feed(gatekeeper, inputs);
    const elapsed = performance.now() - started;
    await gatekeeper.close();
    return rate(inputs.length, elapsed);
  };
  const baselineRound = () => {
    let sent = 0;
    const started = performance.now();
    for (const { machine, events } of inOrder) {
      const actor = createActor(machine).start();
      for (const event of events) actor.send(event);
      sent += events.length;
    }
    return rate(sent, performance.now() - started);
  };

  await gatekeeperRound(); // warm-up: JIT and caches, not counted
  baselineRound();
  const samples = { gatekeeper: [] as number[], baseline: [] as number[] };
  for (let round = 0; round < rounds; round += 1) {
    // Interleaved so machine noise hits both sides alike.
    samples.gatekeeper.push(await gatekeeperRound());
    samples.baseline.push(baselineRound());
  }
  const eventsPerSec = median(samples.gatekeeper);
  const baselineEventsPerSec = median(samples.baseline);
  return {
    entities,
    inputs: stream.inputs.length,
    rounds,
    eventsPerSec,
    baselineEventsPerSec,
    ratio: Number((eventsPerSec / baselineEventsPerSec).toFixed(3)),
    bytesPerResidentEntity: await residentBytes(stream.inputs, entities),
    samples,
  };
}

/** Heap held per resident entity (live actor + cached state + embedded store record). */
async function residentBytes(inputs: readonly unknown[], entities: number): Promise<number> {
  const gc = (globalThis as { gc?: () => void }).gc;
  if (!gc) return Number.NaN;
  const copy = structuredClone(inputs);
  gc();
  const before = process.memoryUsage().heapUsed;
  const gatekeeper = createGatekeeper({ machines, sweepIntervalMs: 0 });
  await feed(gatekeeper, copy);
  gc();
  const bytes = Math.round((process.memoryUsage().heapUsed - before) / entities);
  await gatekeeper.close();
  return bytes;
}
