/**
 * The customer aggregate: created → billing details added → active → closed. The classic
 * retry-ordering case: billing-details.added retried after its successor must not be lost.
 */
import { assign, setup } from 'xstate';
import { z } from 'zod';

export const customerPayloads = {
  'customer.created': z.object({ name: z.string().min(1), email: z.email() }),
  'customer.billing-details.added': z.object({ iban: z.string().min(15).max(34) }),
  'customer.activated': z.object({}),
  'customer.closed': z.object({ reason: z.string().optional() }),
};

export const customerMachine = setup({
  types: {
    context: {} as { name: string; email: string; iban: string | null },
    events: {} as
      | { type: 'customer.created'; name: string; email: string }
      | { type: 'customer.billing-details.added'; iban: string }
      | { type: 'customer.activated' }
      | { type: 'customer.closed'; reason?: string },
  },
}).createMachine({
  id: 'customer',
  description: 'A customer account, from sign-up to closure.',
  initial: 'new',
  context: { name: '', email: '', iban: null },
  states: {
    new: {
      description: 'No event seen yet for this customer id.',
      on: {
        'customer.created': {
          target: 'created',
          actions: assign({ name: ({ event }) => event.name, email: ({ event }) => event.email }),
        },
      },
    },
    created: {
      description: 'Signed up; cannot be billed yet.',
      on: {
        'customer.billing-details.added': {
          target: 'billable',
          actions: assign({ iban: ({ event }) => event.iban }),
        },
      },
    },
    billable: {
      description: 'Billing details on file; waiting for activation.',
      on: { 'customer.activated': { target: 'active' } },
    },
    active: {
      description: 'A paying customer.',
      on: { 'customer.closed': { target: 'closed' } },
    },
    closed: { type: 'final', description: 'Account closed.' },
  },
});
