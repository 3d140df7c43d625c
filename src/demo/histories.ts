/**
 * Legal event histories for the example aggregates (order, customer, valve), as producers would
 * emit them in order: seq 1, 2, 3… per entity.
 */
import type { EventEnvelope } from '../core/envelope.ts';
import type { Random } from './random.ts';

type Step = { type: string; payload?: Record<string, unknown> };

export function orderSteps(random: Random): Step[] {
  const total = random.int(10, 500);
  const steps: Step[] = [{ type: 'order.placed', payload: { total, currency: 'EUR' } }];
  const ending = random.next();
  if (ending < 0.1) return [...steps, { type: 'order.cancelled', payload: { reason: 'changed mind' } }];
  steps.push({ type: 'order.paid', payload: { amount: total } });
  if (ending < 0.2) return [...steps, { type: 'order.cancelled', payload: { reason: 'out of stock' } }];
  if (ending < 0.3) return steps; // still waiting to ship
  steps.push({ type: 'order.shipped', payload: { carrier: random.pick(['DHL', 'UPS', 'PostNL']) } });
  if (ending < 0.4) return steps;
  return [...steps, { type: 'order.delivered', payload: {} }];
}

export function customerSteps(random: Random): Step[] {
  const id = random.int(1, 1e9);
  const steps: Step[] = [
    { type: 'customer.created', payload: { name: `Customer ${id}`, email: `c${id}@example.com` } },
    { type: 'customer.billing-details.added', payload: { iban: `NL91ABNA${String(id).padStart(10, '0')}` } },
    { type: 'customer.activated', payload: {} },
  ];
  const ending = random.next();
  if (ending < 0.15) return steps.slice(0, 1);
  if (ending < 0.3) return steps.slice(0, 2);
  if (ending < 0.5) return [...steps, { type: 'customer.closed', payload: {} }];
  return steps;
}

export function valveSteps(random: Random): Step[] {
  const steps: Step[] = [{ type: 'valve.installed', payload: { site: `site-${random.int(1, 50)}` } }];
  const cycles = random.int(0, 4);
  for (let i = 0; i < cycles; i += 1) {
    steps.push(
      { type: 'valve.opened', payload: { flow: random.int(10, 100) } },
      { type: 'valve.closed', payload: {} },
    );
  }
  if (random.chance(0.3)) steps.push({ type: 'valve.opened', payload: { flow: 50 } });
  else if (random.chance(0.2)) steps.push({ type: 'valve.removed', payload: {} });
  return steps;
}

/** An event that is never legal where it is inserted (a producer bug), per aggregate. */
export function illegalStep(aggregate: string, random: Random): Step {
  switch (aggregate) {
    case 'order':
      return random.chance(0.5)
        ? { type: 'order.paid', payload: { amount: 0.5 } }
        : { type: 'order.delivered', payload: {} };
    case 'customer':
      return { type: 'customer.activated', payload: {} };
    default:
      return { type: 'valve.installed', payload: { site: 'again' } };
  }
}

export function toEnvelopes(aggregate: string, key: string, steps: Step[]): EventEnvelope[] {
  return steps.map((step, index) => ({
    id: `${aggregate}-${key}-${index + 1}`,
    aggregate,
    key,
    seq: index + 1,
    type: step.type,
    ...(step.payload ? { payload: step.payload } : {}),
  }));
}
