/**
 * The demo stream: histories for many entities, then what real pipelines do to them — shuffled,
 * some events sent twice, a few producer bugs (illegal events with their own seq) and a little
 * garbage (bad envelopes, unknown aggregates, bad payloads).
 */
import type { EventEnvelope } from '../core/envelope.ts';
import { customerSteps, illegalStep, orderSteps, toEnvelopes, valveSteps } from './histories.ts';
import { Random } from './random.ts';

export interface DemoStreamOptions {
  /** Entities across the three aggregates (default 10,000). */
  entities?: number;
  seed?: number;
  /** Share of events sent a second time (default 0.1). */
  duplicateRate?: number;
  /** Share of entities given one illegal event (default 0.02). */
  illegalRate?: number;
  /** Garbage records per event (default 0.002). */
  garbageRate?: number;
  /** Shuffle the whole stream (default true); false keeps every entity's events in order. */
  shuffle?: boolean;
}

export interface DemoStream {
  /** What is fed to the gatekeeper, in order: envelopes and garbage alike. */
  inputs: unknown[];
  /** Every entity's intended history, in seq order, illegal events included. */
  histories: EventEnvelope[][];
  counts: { events: number; duplicates: number; illegal: number; garbage: number };
}

export function demoStream(options: DemoStreamOptions = {}): DemoStream {
  const random = new Random(options.seed ?? 42);
  const entities = options.entities ?? 10_000;
  const histories: EventEnvelope[][] = [];
  let illegal = 0;
  for (let i = 0; i < entities; i += 1) {
    const roll = random.next();
    const aggregate = roll < 0.5 ? 'order' : roll < 0.8 ? 'customer' : 'valve';
    const steps =
      aggregate === 'order'
        ? orderSteps(random)
        : aggregate === 'customer'
          ? customerSteps(random)
          : valveSteps(random);
    if (steps.length > 1 && random.chance(options.illegalRate ?? 0.02)) {
      steps.splice(random.int(1, steps.length), 0, illegalStep(aggregate, random));
      illegal += 1;
    }
    histories.push(toEnvelopes(aggregate, `${aggregate.slice(0, 1)}${i}`, steps));
  }
  const inputs: unknown[] = histories.flat();
  const events = inputs.length;
  let duplicates = 0;
  const duplicateRate = options.duplicateRate ?? 0.1;
  for (let i = 0; i < events; i += 1) {
    if (random.chance(duplicateRate)) {
      inputs.push(structuredClone(inputs[i]));
      duplicates += 1;
    }
  }
  const garbage = Math.round(events * (options.garbageRate ?? 0.002));
  for (let i = 0; i < garbage; i += 1) inputs.push(garbageRecord(random, i));
  if (options.shuffle ?? true) random.shuffle(inputs);
  return { inputs, histories, counts: { events, duplicates, illegal, garbage } };
}

function garbageRecord(random: Random, index: number): unknown {
  switch (random.int(0, 3)) {
    case 0:
      return { id: `garbage-${index}`, aggregate: 'invoice', key: `i${index}`, seq: 1, type: 'invoice.sent' };
    case 1:
      return { id: `garbage-${index}`, aggregate: 'order', seq: 1, type: 'order.placed' }; // no key
    case 2:
      return {
        id: `garbage-${index}`,
        aggregate: 'order',
        key: `g${index}`,
        seq: 1,
        type: 'order.placed',
        payload: { total: -5 },
      };
    default:
      return [`garbage-${index}`];
  }
}
