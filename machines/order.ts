/** The order aggregate: placed → paid → shipped → delivered, cancellable until it ships. */
import { assign, setup } from 'xstate';
import { z } from 'zod';

export const orderPayloads = {
  'order.placed': z.object({ total: z.number().positive(), currency: z.string().length(3).default('EUR') }),
  'order.paid': z.object({ amount: z.number().positive() }),
  'order.shipped': z.object({ carrier: z.string().min(1).optional() }),
  'order.delivered': z.object({}),
  'order.cancelled': z.object({ reason: z.string().optional() }),
};

export const orderMachine = setup({
  types: {
    context: {} as { total: number; paid: number },
    events: {} as
      | { type: 'order.placed'; total: number }
      | { type: 'order.paid'; amount: number }
      | { type: 'order.shipped'; carrier?: string }
      | { type: 'order.delivered' }
      | { type: 'order.cancelled'; reason?: string },
  },
  guards: {
    amountMatchesTotal: ({ context, event }) => event.type === 'order.paid' && event.amount === context.total,
  },
}).createMachine({
  id: 'order',
  description: 'An order from checkout to the customer’s door.',
  initial: 'new',
  context: { total: 0, paid: 0 },
  states: {
    new: {
      description: 'No event seen yet for this order id.',
      on: {
        'order.placed': {
          target: 'placed',
          actions: assign({ total: ({ event }) => event.total }),
        },
      },
    },
    placed: {
      description: 'Checked out; waiting for payment of the full total.',
      on: {
        'order.paid': {
          target: 'paid',
          guard: 'amountMatchesTotal',
          actions: assign({ paid: ({ event }) => event.amount }),
        },
        'order.cancelled': { target: 'cancelled' },
      },
    },
    paid: {
      description: 'Paid in full; may ship.',
      on: {
        'order.shipped': { target: 'shipped' },
        'order.cancelled': { target: 'cancelled' },
      },
    },
    shipped: {
      description: 'Handed to the carrier.',
      on: { 'order.delivered': { target: 'delivered' } },
    },
    delivered: { type: 'final', description: 'Received by the customer.' },
    cancelled: { type: 'final', description: 'Cancelled before shipping.' },
  },
});
