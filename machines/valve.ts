/**
 * The valve aggregate: closed ⇄ open. A cycle: "valve.opened" is both past and future, so only
 * sequence numbers or event times (time mode) can tell a late duplicate from the next command.
 */
import { assign, setup } from 'xstate';
import { z } from 'zod';

export const valvePayloads = {
  'valve.installed': z.object({ site: z.string().min(1) }),
  'valve.opened': z.object({ flow: z.number().min(0).max(100).default(100) }),
  'valve.closed': z.object({}),
  'valve.removed': z.object({}),
};

export const valveMachine = setup({
  types: {
    context: {} as { site: string; flow: number; cycles: number },
    events: {} as
      | { type: 'valve.installed'; site: string }
      | { type: 'valve.opened'; flow: number }
      | { type: 'valve.closed' }
      | { type: 'valve.removed' },
  },
}).createMachine({
  id: 'valve',
  description: 'A remotely operated valve.',
  initial: 'new',
  context: { site: '', flow: 0, cycles: 0 },
  states: {
    new: {
      description: 'Not installed yet.',
      on: {
        'valve.installed': { target: 'closed', actions: assign({ site: ({ event }) => event.site }) },
      },
    },
    closed: {
      description: 'No flow.',
      on: {
        'valve.opened': {
          target: 'open',
          actions: assign({ flow: ({ event }) => event.flow, cycles: ({ context }) => context.cycles + 1 }),
        },
        'valve.removed': { target: 'removed' },
      },
    },
    open: {
      description: 'Flowing at `flow` percent.',
      on: { 'valve.closed': { target: 'closed', actions: assign({ flow: 0 }) } },
    },
    removed: { type: 'final', description: 'Taken out of service.' },
  },
});
