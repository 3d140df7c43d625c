/**
 * Stately's own parser (@xstate/machine-extractor, what the XState VS Code extension and Studio use
 * to read machines from code) over every file in machines/: each machine must be found, with the
 * same id, states, descriptions and transitions as the machine XState builds at run time.
 *
 * The extractor needs xstate v4 as a peer, so it lives in tools/machine-extractor with its own
 * lockfile: `npm ci --prefix tools/machine-extractor` before this test.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { describe, expect, it } from 'vitest';
import type { AnyStateMachine } from 'xstate';
import { isStateMachine } from '../../../src/core/aggregate.ts';
import { machineModel } from '../../../src/observe/export/machine-model.ts';
import { toStudioSource } from '../../../src/observe/export/to-json.ts';
import { customerMachine, orderMachine, valveMachine } from '../../../machines/index.ts';

const toolDir = new URL('../../../tools/machine-extractor/', import.meta.url);
const machinesDir = new URL('../../../machines/', import.meta.url);

interface ExtractedMachine {
  toConfig(): ExtractedState & { id?: string };
}
interface Extractor {
  extractMachinesFromFile(source: string): { machines: (ExtractedMachine | undefined)[] } | null;
}
interface ExtractedState {
  initial?: string;
  type?: string;
  description?: string;
  on?: Record<string, unknown>;
  states?: Record<string, ExtractedState>;
}

function loadExtractor(): Extractor {
  const require = createRequire(new URL('package.json', toolDir));
  try {
    return require('@xstate/machine-extractor') as Extractor;
  } catch (error) {
    throw new Error(
      `@xstate/machine-extractor is not installed in tools/machine-extractor: run \`npm ci --prefix tools/machine-extractor\` (${String(error)})`,
    );
  }
}

/** "state id event → target id" lines of a live machine. */
function liveShape(machine: AnyStateMachine) {
  const model = machineModel(machine);
  return {
    id: model.id,
    states: model.states.map((state) => `${state.id} ${state.type} ${state.description ?? ''}`).sort(),
    transitions: model.transitions
      .map((t) => `${t.source} ${t.event} → ${t.targets.join(',')} ${t.guard ?? ''}`)
      .sort(),
  };
}

/** The same lines read from the extractor's config, with targets resolved the way XState does. */
function extractedShape(config: ExtractedState & { id?: string }) {
  const states: string[] = [];
  const transitions: string[] = [];
  const walk = (state: ExtractedState, id: string, parentId: string | undefined) => {
    const children = Object.entries(state.states ?? {});
    const type = state.type ?? (children.length > 0 ? 'compound' : 'atomic');
    states.push(`${id} ${type} ${state.description ?? ''}`);
    for (const [event, raw] of Object.entries(state.on ?? {})) {
      const list = Array.isArray(raw) ? raw : [raw];
      for (const item of list) {
        const transition = (typeof item === 'string' ? { target: item } : item) as {
          target?: string | string[];
          guard?: unknown;
          cond?: unknown;
        };
        const targets = (transition.target === undefined ? [] : [transition.target].flat()).map((target) => {
          if (target.startsWith('#')) return target.slice(1);
          if (target.startsWith('.')) return `${id}${target}`;
          return `${parentId ?? id}.${target}`;
        });
        // The extractor speaks xstate v4: a guard comes back as `cond: { kind: 'named', type }`.
        const rawGuard = transition.guard ?? transition.cond;
        const guard =
          typeof rawGuard === 'string' ? rawGuard : ((rawGuard as { type?: string } | undefined)?.type ?? '');
        transitions.push(`${id} ${event} → ${targets.join(',')} ${guard}`);
      }
    }
    for (const [key, child] of children) walk(child, `${id}.${key}`, id);
  };
  walk(config, config.id ?? '(no id)', undefined);
  return { id: config.id, states: states.sort(), transitions: transitions.sort() };
}

const files = readdirSync(machinesDir).filter((file) => file.endsWith('.ts') && file !== 'index.ts');

describe('Stately’s machine extractor reads machines/', () => {
  it('finds machine files to check', () => {
    expect(files.length).toBeGreaterThanOrEqual(3);
  });

  for (const file of files) {
    it(`${file}: every machine is found with its id, states and transitions`, async () => {
      const extractor = loadExtractor();
      const source = readFileSync(new URL(file, machinesDir), 'utf8');
      const result = extractor.extractMachinesFromFile(source);
      const extracted = (result?.machines ?? []).filter(
        (machine): machine is ExtractedMachine => machine !== undefined,
      );
      const module = (await import(new URL(file, machinesDir).href)) as Record<string, unknown>;
      const live = Object.values(module).filter(isStateMachine);
      expect(live.length).toBeGreaterThan(0);
      expect(extracted).toHaveLength(live.length);
      const byId = new Map(extracted.map((machine) => [machine.toConfig().id, machine]));
      for (const machine of live) {
        const found = byId.get(machine.id);
        expect(found, `the extractor did not find machine "${machine.id}" in ${file}`).toBeDefined();
        expect(extractedShape((found as ExtractedMachine).toConfig())).toEqual(liveShape(machine));
      }
    });
  }
});

describe('gatekeeper export --format studio', () => {
  it('is read back by Stately’s extractor as the same machines', () => {
    const live = [orderMachine, customerMachine, valveMachine];
    const source = toStudioSource(new Map(live.map((machine) => [machine.id, machine])));
    const extracted = (loadExtractor().extractMachinesFromFile(source)?.machines ?? []).filter(
      (machine): machine is ExtractedMachine => machine !== undefined,
    );
    expect(extracted.map((machine) => extractedShape(machine.toConfig()))).toEqual(live.map(liveShape));
  });
});

describe('the extractor check has teeth', () => {
  it('a machine whose states are spread from another module is not read in full', () => {
    const source = `import { setup } from 'xstate';
import { shared } from './shared-states';
export const m = setup({}).createMachine({ id: 'm', initial: 'a', states: { a: { on: { go: 'done' } }, ...shared } });`;
    const config = loadExtractor().extractMachinesFromFile(source)?.machines[0]?.toConfig();
    expect(Object.keys(config?.states ?? {})).not.toContain('done');
  });
});
