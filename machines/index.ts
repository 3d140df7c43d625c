/**
 * The registry of this project's example aggregates. A registry is a plain object: aggregate
 * name → XState machine, or → { machine, payloads, onRejected, onStall, stallAfterMs, maxBuffered,
 * holdMs, maxFutureMs }.
 */
import { customerMachine, customerPayloads } from './customer.ts';
import { orderMachine, orderPayloads } from './order.ts';
import { valveMachine, valvePayloads } from './valve.ts';

export { customerMachine, orderMachine, valveMachine };

const machines = {
  order: { machine: orderMachine, payloads: orderPayloads },
  /** A customer stops at a bad event until an operator looks: billing must not skip a step. */
  customer: { machine: customerMachine, payloads: customerPayloads, onRejected: 'park' as const },
  valve: { machine: valveMachine, payloads: valvePayloads },
};

export default machines;
