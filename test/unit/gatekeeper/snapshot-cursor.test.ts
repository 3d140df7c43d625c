import { describe, expect, it } from 'vitest';
import { assign, createMachine, setup } from 'xstate';
import machines from '../../../machines/index.ts';
import { analyzeMachine } from '../../../src/core/topology.ts';
import { toMachineEvent } from '../../../src/core/envelope.ts';
import { demoStream } from '../../../src/demo/stream.ts';
import { ActorCursor } from '../../../src/gatekeeper/actor-cursor.ts';
import { SnapshotCursor } from '../../../src/gatekeeper/snapshot-cursor.ts';
import { createGatekeeper } from '../../../src/index.ts';

const registry = machines as unknown as Record<string, { machine: Parameters<typeof analyzeMachine>[0] }>;

describe('snapshot cursor (the default per-entity state)', () => {
  it('moves exactly like a live actor through every demo history, legal and illegal events alike', () => {
    const stream = demoStream({ entities: 300, seed: 7 });
    for (const history of stream.histories) {
      const machine = (registry[history[0]?.aggregate ?? ''] as { machine: never }).machine;
      const live = new ActorCursor(machine, undefined);
      const pure = new SnapshotCursor(machine, undefined);
      // Every type the machine knows, at every step: illegal ones must be refused by both alike.
      const probes = analyzeMachine(machine).eventTypes.map((type) => ({ type }));
      for (const envelope of history) {
        for (const probe of probes) expect(pure.can(probe)).toBe(live.can(probe));
        // Illegal events too: both must answer not-enabled and stay where they are.
        const event = toMachineEvent(envelope);
        expect(pure.step(event)).toEqual(live.step(event));
        expect(pure.value()).toEqual(live.value());
        expect(pure.context()).toEqual(live.context());
        expect(pure.done()).toBe(live.done());
        expect(pure.persistLater()()).toEqual(live.persistLater()());
      }
      live.stop();
    }
  });

  it('continues from a persisted snapshot where the entity left off', () => {
    const { machine } = registry.order as { machine: never };
    const first = new SnapshotCursor(machine, undefined);
    const placed = { type: 'order.placed', total: 40 };
    const paidInFull = { type: 'order.paid', amount: 40 };
    const paidShort = { type: 'order.paid', amount: 41 };
    first.step(placed);
    const restored = new SnapshotCursor(machine, first.persistLater()());
    expect(restored.value()).toEqual(first.value());
    expect(restored.value()).toBe('placed');
    expect(restored.can(paidInFull)).toBe(true);
    expect(restored.can(paidShort)).toBe(false);
  });

  it('runs a custom action once per transition, as a started actor does', () => {
    const calls: string[] = [];
    const machine = setup({
      actions: { note: (_, params: { at: string }) => calls.push(params.at) },
    }).createMachine({
      initial: 'a',
      states: {
        a: { on: { GO: { target: 'b', actions: { type: 'note', params: { at: 'a→b' } } } } },
        b: { entry: { type: 'note', params: { at: 'entered b' } } },
      },
    });
    const cursor = new SnapshotCursor(machine, undefined);
    expect(calls).toEqual([]);
    cursor.step({ type: 'GO' });
    expect(calls).toEqual(['a→b', 'entered b']);
  });

  it('tells a legal transition that changes nothing from an event the state does not take', () => {
    const calls: string[] = [];
    const machine = setup({ actions: { log: () => calls.push('logged') } }).createMachine({
      initial: 'a',
      states: {
        a: { on: { PING: { actions: 'log' }, GO: 'b' } },
        b: { on: { GO: undefined } },
      },
    });
    const cursor = new SnapshotCursor(machine, undefined);
    expect(cursor.step({ type: 'PING' })).toBe('moved');
    expect(calls).toEqual(['logged']);
    expect(cursor.value()).toBe('a');
    expect(cursor.step({ type: 'NOPE' })).toBe('not-enabled');
    expect(cursor.step({ type: 'GO' })).toBe('moved');
    // A forbidden transition (no target, no actions) is not legal, as `can` says.
    expect(cursor.step({ type: 'GO' })).toBe('not-enabled');
    expect(cursor.step({ type: 'PING' })).toBe('not-enabled');
    expect(calls).toEqual(['logged']);
  });

  it('reports a throwing action as the error message and keeps the snapshot from before the event', () => {
    const machine = createMachine({
      initial: 'idle',
      context: { count: 0 },
      states: {
        idle: {
          on: {
            BUMP: { actions: assign({ count: ({ context }) => context.count + 1 }) },
            BREAK: {
              target: 'broken',
              actions: () => {
                throw new Error('printer on fire');
              },
            },
          },
        },
        broken: {},
      },
    });
    const cursor = new SnapshotCursor(machine, undefined);
    cursor.step({ type: 'BUMP' });
    expect(cursor.step({ type: 'BREAK' })).toEqual({ error: 'printer on fire' });
    expect(cursor.value()).toBe('idle');
    expect(cursor.context()).toEqual({ count: 1 });
    expect(cursor.step({ type: 'BUMP' })).toBe('moved');
    expect(cursor.context()).toEqual({ count: 2 });
  });

  it('makes a throwing action a machine-error rejection, and the entity goes on with the next seq', async () => {
    const machine = createMachine({
      id: 'press',
      initial: 'idle',
      states: {
        idle: {
          on: {
            JAM: {
              target: 'done',
              actions: () => {
                throw new Error('jammed');
              },
            },
            RUN: 'running',
          },
        },
        running: {},
        done: {},
      },
    });
    const gk = createGatekeeper({ machines: { press: machine }, sweepIntervalMs: 0 });
    const base = { aggregate: 'press', key: 'p-1' };
    const jam = await gk.handle({ ...base, id: 'e1', seq: 1, type: 'JAM' });
    expect(jam.outcome).toMatchObject({ outcome: 'rejected', reason: 'machine-error', state: 'idle' });
    expect(jam.outcome.detail).toContain('jammed');
    const run = await gk.handle({ ...base, id: 'e2', seq: 2, type: 'RUN' });
    expect(run.outcome).toMatchObject({ outcome: 'applied', state: 'running' });
    await gk.close();
  });
});

describe('what the gatekeeper does not run', () => {
  it('names states with delayed transitions or invoked actors, which move machines without an event', () => {
    const machine = createMachine({
      id: 'door',
      initial: 'open',
      states: {
        open: { after: { 1000: 'closed' }, on: { CLOSE: 'closed' } },
        closed: { invoke: { src: createMachine({}) }, on: { OPEN: 'open' } },
      },
    });
    expect(analyzeMachine(machine).notRunHere).toEqual([
      { state: 'door.open', feature: 'after' },
      { state: 'door.closed', feature: 'invoke' },
    ]);
    expect(analyzeMachine(registry.order?.machine as never).notRunHere).toEqual([]);
  });
});
