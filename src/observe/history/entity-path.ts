/**
 * Reads an entity's decision history against its machine: which states it visited, which declared
 * transition each applied event took (numbered in order), and which events were held back or
 * refused in which state. The Mermaid history diagram and the web view both draw from this.
 */
import { initialTransition, type AnyStateMachine } from 'xstate';
import type { HistoryEntry } from '../../core/history.ts';
import type { StateValue } from '../../core/outcome.ts';
import { activeLeafIds } from '../../core/topology.ts';
import { ancestry, machineModel, type MachineModel, type TransitionModel } from '../export/machine-model.ts';

/** One applied event placed on the machine. */
export interface PathStep {
  /** 1-based position among the applied events in the history. */
  step: number;
  entry: HistoryEntry;
  /** The declared transition it took, when one matches. */
  transition: TransitionModel | undefined;
  /** Leaf state ids before and after. */
  from: readonly string[];
  to: readonly string[];
}

/** An event that did not move the entity, pinned to the state it found the entity in. */
export interface HeldEvent {
  entry: HistoryEntry;
  states: readonly string[];
}

export interface EntityPath {
  model: MachineModel;
  /** Leaf ids the entity has been in, in first-visit order (the initial state first). */
  visited: readonly string[];
  /** Leaf ids it is in after the newest entry. */
  current: readonly string[];
  steps: readonly PathStep[];
  held: readonly HeldEvent[];
}

export function entityPath(machine: AnyStateMachine, history: readonly HistoryEntry[]): EntityPath {
  const model = machineModel(machine);
  const leaves = (value: StateValue | null | undefined): string[] =>
    value === null || value === undefined ? [] : activeLeafIds(machine, value);
  const initial = leaves(initialTransition(machine)[0].value as StateValue);
  const visited = new Set<string>();
  const steps: PathStep[] = [];
  const held: HeldEvent[] = [];
  let current: string[] = [];
  history.forEach((entry, index) => {
    const before = entry.outcome === 'applied' ? leaves(entry.from) : leaves(entry.state);
    // The oldest entries of a long history may be trimmed: start from the first state we see.
    if (index === 0) for (const id of before.length > 0 ? before : initial) visited.add(id);
    if (entry.outcome === 'applied') {
      const after = leaves(entry.state);
      for (const id of after) visited.add(id);
      steps.push({
        step: steps.length + 1,
        entry,
        transition: matchTransition(model, entry.type, before, after),
        from: before,
        to: after,
      });
      current = after;
    } else {
      held.push({ entry, states: before });
      if (before.length > 0) current = before;
    }
  });
  if (history.length === 0) for (const id of initial) visited.add(id);
  if (current.length === 0) current = history.length === 0 ? initial : [...visited].slice(-1);
  return { model, visited: [...visited], current, steps, held };
}

/** The declared transition for `type` whose source is (an ancestor of) a `from` leaf and that lands on a `to` leaf. */
function matchTransition(
  model: MachineModel,
  type: string | null,
  from: readonly string[],
  to: readonly string[],
): TransitionModel | undefined {
  if (type === null) return undefined;
  const sources = new Set(from.flatMap((leaf) => ancestry(model, leaf)));
  const targets = new Set(to.flatMap((leaf) => ancestry(model, leaf)));
  const candidates = model.transitions.filter(
    (transition) =>
      transition.kind === 'on' && sources.has(transition.source) && descriptorMatches(transition.event, type),
  );
  return (
    candidates.find((transition) => transition.targets.some((target) => targets.has(target))) ??
    candidates.find((transition) => transition.targets.length === 0 && from.some((leaf) => to.includes(leaf)))
  );
}

function descriptorMatches(descriptor: string, type: string): boolean {
  if (descriptor === type || descriptor === '*') return true;
  return descriptor.endsWith('.*') && type.startsWith(descriptor.slice(0, -1));
}
