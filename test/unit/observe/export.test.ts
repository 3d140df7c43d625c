import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { createMachine, setup, type AnyStateMachine } from 'xstate';
import { customerMachine, orderMachine, valveMachine } from '../../../machines/index.ts';
import { main } from '../../../src/cli/main.ts';
import {
  machineModel,
  toDot,
  toJson,
  toMachineConfig,
  toMermaid,
} from '../../../src/observe/export/index.ts';
import { captureIO } from '../../support/cli-io.ts';

const examples: [string, AnyStateMachine][] = [
  ['order', orderMachine],
  ['customer', customerMachine],
  ['valve', valveMachine],
];

/** A machine with nesting, a parallel state, eventless and delayed transitions. */
const nested = setup({ guards: { isBig: () => true }, actions: { notify: () => undefined } }).createMachine({
  id: 'shipment',
  initial: 'preparing',
  states: {
    preparing: {
      initial: 'picking',
      states: {
        picking: { on: { picked: 'packing' } },
        packing: { on: { packed: { target: '#shipment.transit', guard: 'isBig', actions: 'notify' } } },
      },
    },
    transit: {
      type: 'parallel',
      states: {
        truck: {
          initial: 'moving',
          states: { moving: { after: { 1000: 'stopped' } }, stopped: { type: 'final' } },
        },
        papers: { initial: 'pending', states: { pending: { always: 'done' }, done: { type: 'final' } } },
      },
      on: { 'shipment.lost': 'lost' },
    },
    lost: { type: 'final' },
  },
});

describe('export of the example machines', () => {
  for (const [name, machine] of examples) {
    it(`${name}: Mermaid matches its snapshot`, async () => {
      await expect(toMermaid(machine)).toMatchFileSnapshot(`./__snapshots__/${name}.mmd`);
    });
    it(`${name}: DOT matches its snapshot`, async () => {
      await expect(toDot(machine)).toMatchFileSnapshot(`./__snapshots__/${name}.dot`);
    });
    it(`${name}: JSON matches its snapshot and rebuilds the same machine`, async () => {
      const json = toJson(machine);
      await expect(json).toMatchFileSnapshot(`./__snapshots__/${name}.json`);
      const rebuilt = machineModel(createMachine(JSON.parse(json) as Parameters<typeof createMachine>[0]));
      const original = machineModel(machine);
      const shape = (model: typeof original) => ({
        states: model.states.map((s) => [s.id, s.type, s.description, s.initial]),
        transitions: model.transitions.map((t) => [t.source, t.event, t.targets, t.guard]),
      });
      expect(shape(rebuilt)).toEqual(shape(original));
    });
  }
});

describe('export of nested, parallel, eventless and delayed states', () => {
  it('Mermaid nests compound states, separates parallel regions and labels every kind of transition', () => {
    const text = toMermaid(nested);
    expect(text).toContain('state shipment_preparing {');
    expect(text).toContain('[*] --> shipment_preparing_picking');
    expect(text).toContain('shipment_preparing_picking --> shipment_preparing_packing : picked');
    expect(text).toContain('shipment_preparing_packing --> shipment_transit : packed [isBig]');
    expect(text).toContain('shipment_transit_truck_moving --> shipment_transit_truck_stopped : after 1000ms');
    expect(text).toContain('shipment_transit_papers_pending --> shipment_transit_papers_done : always');
    expect(text).toMatch(/state shipment_transit \{\n(.*\n)*\s+--\n/);
    expect(text.match(/\{/g)?.length).toBe(text.match(/\}/g)?.length);
  });

  it('DOT draws compound states as clusters and clips edges to them', () => {
    const text = toDot(nested);
    expect(text).toContain('subgraph "cluster_shipment.transit"');
    expect(text).toContain('lhead="cluster_shipment.transit"');
    expect(text).toContain('"shipment.transit.truck.stopped" [label="stopped", peripheries=2]');
  });

  it('JSON keeps guards, named actions, delays and eventless transitions', () => {
    const config = toMachineConfig(nested) as { states: Record<string, unknown> };
    expect(JSON.stringify(config)).toContain('"after":{"1000":{"target":"stopped"}}');
    expect(JSON.stringify(config)).toContain('"always":{"target":"done"}');
    expect(JSON.stringify(config)).toContain(
      '"target":"#shipment.transit","guard":"isBig","actions":[{"type":"notify"}]',
    );
  });
});

describe('docs/machines.md', () => {
  it('shows the current Mermaid diagram of every example machine', () => {
    const page = readFileSync(new URL('../../../docs/machines.md', import.meta.url), 'utf8');
    for (const [name, machine] of examples) {
      expect(page, `regenerate the ${name} diagram: gatekeeper export --format markdown`).toContain(
        '```mermaid\n' + toMermaid(machine),
      );
    }
  });
});

describe('gatekeeper export', () => {
  it('prints one aggregate in the asked format', async () => {
    const io = captureIO();
    expect(await main(['export', '--aggregate', 'valve', '--format', 'mermaid'], io)).toBe(0);
    expect(io.out()).toBe(toMermaid(valveMachine));
  });

  it('prints every aggregate as one JSON object keyed by name', async () => {
    const io = captureIO();
    expect(await main(['export', '--format', 'json'], io)).toBe(0);
    expect(Object.keys(JSON.parse(io.out()) as object)).toEqual(['order', 'customer', 'valve']);
  });

  it('refuses an unknown format or aggregate with a usage error', async () => {
    const io = captureIO();
    expect(await main(['export', '--format', 'svg'], io)).toBe(2);
    expect(await main(['export', '--aggregate', 'invoice'], io)).toBe(2);
    expect(io.err()).toContain('unknown aggregate "invoice"');
  });
});
