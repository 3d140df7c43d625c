/**
 * Shipment events as real pipelines deliver them: each shipment's history in seq order, then the
 * whole stream shuffled and some events sent twice, plus a few producer bugs (an event that is
 * never legal where it sits). Seeded, so a run can be repeated. Used by produce.ts and the tests.
 */

/** The envelope gatekeeper reads from the input topic (JSON value of each record). */
export interface ShipmentEvent {
  id: string;
  aggregate: 'shipment';
  key: string;
  seq: number;
  type: string;
  payload: Record<string, unknown>;
}

export interface ShipmentStreamOptions {
  shipments: number;
  seed?: number;
  /** Share of events sent a second time (default 0.15). */
  duplicateRate?: number;
  /** Share of shipments given one illegal event (default 0.05). */
  illegalRate?: number;
  /** Key prefix, so two runs on one topic do not share entities (default "s"). */
  keyPrefix?: string;
}

export interface ShipmentStream {
  /** Every shipment's history in seq order (illegal events included). */
  histories: ShipmentEvent[][];
  /** What is produced, in order: shuffled, with duplicates. */
  events: ShipmentEvent[];
}

/** Mulberry32: small, fast and good enough to shuffle test data reproducibly. */
function random(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

type Step = { type: string; payload: Record<string, unknown> };

function steps(next: () => number): Step[] {
  const pick = <T>(items: readonly T[]): T => items[Math.floor(next() * items.length)] as T;
  const out: Step[] = [
    {
      type: 'shipment.registered',
      payload: { parcels: 1 + Math.floor(next() * 4), destination: pick(['Utrecht', 'Gent', 'Köln']) },
    },
  ];
  const ending = next();
  if (ending < 0.1) return [...out, { type: 'shipment.cancelled', payload: {} }];
  if (ending < 0.15) return out; // still waiting for the courier
  out.push({ type: 'shipment.picked-up', payload: { courier: pick(['DHL', 'UPS', 'PostNL']) } });
  const scans = Math.floor(next() * 4);
  for (let i = 0; i < scans; i += 1) {
    out.push({ type: 'shipment.scanned', payload: { hub: pick(['AMS', 'BRU', 'CGN', 'LGG']) } });
  }
  if (ending < 0.25) return out; // still on its way
  if (ending < 0.35) return [...out, { type: 'shipment.returned', payload: { reason: 'refused' } }];
  // Delivered: illegal (the guard refuses it) when it was never scanned at a hub.
  return [...out, { type: 'shipment.delivered', payload: { signedBy: 'J. Doe' } }];
}

export function shipmentStream(options: ShipmentStreamOptions): ShipmentStream {
  const next = random(options.seed ?? 1);
  const prefix = options.keyPrefix ?? 's';
  const histories: ShipmentEvent[][] = [];
  for (let i = 0; i < options.shipments; i += 1) {
    const history = steps(next);
    if (history.length > 1 && next() < (options.illegalRate ?? 0.05)) {
      // A producer bug: a second registration somewhere after the first.
      const at = 1 + Math.floor(next() * (history.length - 1));
      history.splice(at, 0, { type: 'shipment.registered', payload: { parcels: 1, destination: 'again' } });
    }
    const key = `${prefix}${i}`;
    histories.push(
      history.map((step, index) => ({
        id: `${key}-${index + 1}`,
        aggregate: 'shipment',
        key,
        seq: index + 1,
        type: step.type,
        payload: step.payload,
      })),
    );
  }
  const events = histories.flat();
  const total = events.length;
  for (let i = 0; i < total; i += 1) {
    if (next() < (options.duplicateRate ?? 0.15)) events.push({ ...(events[i] as ShipmentEvent) });
  }
  for (let i = events.length - 1; i > 0; i -= 1) {
    const j = Math.floor(next() * (i + 1));
    [events[i], events[j]] = [events[j] as ShipmentEvent, events[i] as ShipmentEvent];
  }
  return { histories, events };
}
