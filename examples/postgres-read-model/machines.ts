/**
 * The service's own aggregate, a parcel shipment: registered → in transit (scanned at hubs) →
 * delivered or returned; cancellable until it is picked up. This registry is what gatekeeper is
 * given; a real service keeps its machines in its own code like this (XState and zod only).
 */
import { assign, setup } from 'xstate';
import { z } from 'zod';

export const shipmentPayloads = {
  'shipment.registered': z.object({
    parcels: z.number().int().positive(),
    destination: z.string().min(1),
  }),
  'shipment.picked-up': z.object({ courier: z.string().min(1) }),
  'shipment.scanned': z.object({ hub: z.string().min(1) }),
  'shipment.delivered': z.object({ signedBy: z.string().optional() }),
  'shipment.returned': z.object({ reason: z.string().min(1) }),
  'shipment.cancelled': z.object({}),
};

export const shipmentMachine = setup({
  types: {
    context: {} as { parcels: number; scans: number },
    events: {} as
      | { type: 'shipment.registered'; parcels: number; destination: string }
      | { type: 'shipment.picked-up'; courier: string }
      | { type: 'shipment.scanned'; hub: string }
      | { type: 'shipment.delivered'; signedBy?: string }
      | { type: 'shipment.returned'; reason: string }
      | { type: 'shipment.cancelled' },
  },
  guards: {
    // A parcel is delivered from the last hub it was scanned at, never straight from the pick-up.
    scannedAtAHub: ({ context }) => context.scans > 0,
  },
}).createMachine({
  id: 'shipment',
  description: 'A shipment from registration to delivery or return.',
  initial: 'new',
  context: { parcels: 0, scans: 0 },
  states: {
    new: {
      on: {
        'shipment.registered': {
          target: 'registered',
          actions: assign({ parcels: ({ event }) => event.parcels }),
        },
      },
    },
    registered: {
      description: 'Announced by the sender; waiting for the courier.',
      on: {
        'shipment.picked-up': { target: 'inTransit' },
        'shipment.cancelled': { target: 'cancelled' },
      },
    },
    inTransit: {
      description: 'On its way; every hub scan is recorded.',
      on: {
        'shipment.scanned': { actions: assign({ scans: ({ context }) => context.scans + 1 }) },
        'shipment.delivered': { target: 'delivered', guard: 'scannedAtAHub' },
        'shipment.returned': { target: 'returned' },
      },
    },
    delivered: { type: 'final' },
    returned: { type: 'final' },
    cancelled: { type: 'final' },
  },
});

/** Aggregate name → machine and payload schemas. */
export const machines = {
  shipment: { machine: shipmentMachine, payloads: shipmentPayloads },
};
