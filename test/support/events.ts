/** Small builders for test events. */
import type { EventEnvelope } from '../../src/core/envelope.ts';

let counter = 0;

export function event(
  aggregate: string,
  key: string,
  type: string,
  options: { seq?: number; payload?: Record<string, unknown>; id?: string } = {},
): EventEnvelope {
  counter += 1;
  return {
    id: options.id ?? `${aggregate}-${key}-${options.seq ?? 'n'}-${type}-${counter}`,
    aggregate,
    key,
    type,
    ...(options.seq === undefined ? {} : { seq: options.seq }),
    ...(options.payload === undefined ? {} : { payload: options.payload }),
  };
}

/** An order's full legal history with seq 1..5 (placed, paid, shipped, delivered). */
export function orderHistory(key: string, total = 100): EventEnvelope[] {
  return [
    event('order', key, 'order.placed', { seq: 1, payload: { total } }),
    event('order', key, 'order.paid', { seq: 2, payload: { amount: total } }),
    event('order', key, 'order.shipped', { seq: 3, payload: { carrier: 'DHL' } }),
    event('order', key, 'order.delivered', { seq: 4, payload: {} }),
  ];
}

/** Events of one entity with seq, ids `<key>-<seq>`: `sequenced('order', 'o1')(2, 'order.paid', { amount: 5 })`. */
export function sequenced(aggregate: string, key: string) {
  return (seq: number, type: string, payload: object = {}) => ({
    id: `${key}-${seq}`,
    aggregate,
    key,
    seq,
    type,
    payload,
  });
}
