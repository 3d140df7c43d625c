/**
 * A drawing-neutral model of one XState machine: its state tree and every transition with its
 * source, targets, event, guard and actions. The exporters (JSON, Mermaid, DOT), the history
 * diagram and the web view all draw from this one walk of `machine.root`.
 */
import type { AnyStateMachine } from 'xstate';

type AnyStateNode = AnyStateMachine['root'];

/** One state node. `id` is XState's id ("order.placed"); `path` the keys from the root. */
export interface StateModel {
  id: string;
  key: string;
  path: readonly string[];
  type: 'atomic' | 'compound' | 'parallel' | 'final' | 'history';
  description: string | undefined;
  /** Key of the initial child (compound states). */
  initial: string | undefined;
  children: readonly StateModel[];
  tags: readonly string[];
  entry: readonly string[];
  exit: readonly string[];
  invoke: readonly string[];
}

/** One transition as declared: `on` (an event), `always` (eventless) or `after` (a delay). */
export interface TransitionModel {
  /** Stable within a machine: `<source id>:<index>`. */
  id: string;
  source: string;
  /** Target state ids; empty for a targetless (self, actions-only) transition. */
  targets: readonly string[];
  kind: 'on' | 'always' | 'after';
  /** The event descriptor ("order.paid", "*"); for `after`, the delay ("1000"). */
  event: string;
  guard: string | undefined;
  actions: readonly string[];
  reenter: boolean;
}

export interface MachineModel {
  id: string;
  description: string | undefined;
  root: StateModel;
  /** Every state, root first, depth-first in declaration order. */
  states: readonly StateModel[];
  transitions: readonly TransitionModel[];
}

/** Walks a machine once. Internal `xstate.*` events other than delays are skipped. */
export function machineModel(machine: AnyStateMachine): MachineModel {
  const states: StateModel[] = [];
  const transitions: TransitionModel[] = [];
  const visit = (node: AnyStateNode, path: string[]): StateModel => {
    const model: StateModel = {
      id: node.id,
      key: node.key,
      path,
      type: node.type,
      description: node.description,
      initial: node.type === 'compound' ? node.initial.target[0]?.key : undefined,
      children: [],
      tags: [...node.tags],
      entry: node.entry.map(actionName),
      exit: node.exit.map(actionName),
      invoke: node.invoke.map((invoke) => (typeof invoke.src === 'string' ? invoke.src : invoke.id)),
    };
    states.push(model);
    let index = 0;
    const add = (kind: TransitionModel['kind'], event: string, definition: TransitionLike) => {
      transitions.push({
        id: `${node.id}:${index}`,
        source: node.id,
        targets: (definition.target ?? []).map((target) => target.id),
        kind,
        event,
        guard: guardName(definition.guard),
        actions: definition.actions.map(actionName),
        reenter: definition.reenter,
      });
      index += 1;
    };
    const delays = new Map<string, string>();
    for (const delayed of node.after) delays.set(String(delayed.eventType), String(delayed.delay));
    for (const [descriptor, list] of node.transitions) {
      for (const definition of list) {
        const delay = delays.get(descriptor);
        if (delay !== undefined) add('after', delay, definition);
        else if (!descriptor.startsWith('xstate.')) add('on', descriptor, definition);
      }
    }
    for (const definition of node.always ?? []) add('always', '', definition);
    (model.children as StateModel[]).push(
      ...Object.values(node.states).map((child) => visit(child, [...path, child.key])),
    );
    return model;
  };
  const root = visit(machine.root, []);
  return { id: machine.id, description: machine.root.description, root, states, transitions };
}

interface TransitionLike {
  target?: readonly { id: string }[] | undefined;
  guard?: unknown;
  actions: readonly unknown[];
  reenter: boolean;
}

/** A named action keeps its name; inline ones are shown by their built-in type (e.g. "xstate.assign"). */
export function actionName(action: unknown): string {
  if (typeof action === 'string') return action;
  if (typeof action === 'function') {
    const type = (action as { type?: unknown }).type;
    return typeof type === 'string' ? type : 'inline';
  }
  if (typeof action === 'object' && action !== null) {
    const type = (action as { type?: unknown }).type;
    if (typeof type === 'string') return type;
  }
  return 'inline';
}

function guardName(guard: unknown): string | undefined {
  if (guard === undefined || guard === null) return undefined;
  if (typeof guard === 'string') return guard;
  if (typeof guard === 'function') return guard.name && guard.name !== 'guard' ? guard.name : 'inline';
  if (typeof guard === 'object') {
    const type = (guard as { type?: unknown }).type;
    if (typeof type === 'string') return type;
  }
  return 'inline';
}

/** The state with this id, or undefined. */
export function findState(model: MachineModel, id: string): StateModel | undefined {
  return model.states.find((state) => state.id === id);
}

/** Ids of `id` and its ancestors, innermost first. */
export function ancestry(model: MachineModel, id: string): string[] {
  const byId = new Map(model.states.map((state) => [state.id, state]));
  const chain: string[] = [];
  let state = byId.get(id);
  while (state) {
    chain.push(state.id);
    const parentPath = state.path.slice(0, -1);
    if (state.path.length === 0) break;
    state = model.states.find((candidate) => sameKeys(candidate.path, parentPath));
  }
  return chain;
}

function sameKeys(a: readonly string[], b: readonly string[]): boolean {
  return a.length === b.length && a.every((key, i) => key === b[i]);
}
