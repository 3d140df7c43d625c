/**
 * The machine as a JSON machine config: what `createMachine(...)` takes, with functions replaced
 * by their names. Paste it into Stately Studio's import (as `createMachine(<this JSON>)`) or keep it
 * as a reviewable definition next to the code.
 */
import type { AnyStateMachine } from 'xstate';
import { machineModel, type MachineModel, type StateModel, type TransitionModel } from './machine-model.ts';

/** A JSON value (what the exporter emits). */
export type JsonValue = string | number | boolean | null | JsonValue[] | { [key: string]: JsonValue };
type JsonObject = { [key: string]: JsonValue };

/** The machine config of `machine`, JSON-safe; `context` is kept when it is plain data. */
export function toMachineConfig(machine: AnyStateMachine): JsonObject {
  const model = machineModel(machine);
  const config = stateConfig(model, model.root);
  const ordered: JsonObject = { id: model.id };
  const context = jsonContext((machine.config as { context?: unknown }).context);
  if (context !== undefined) ordered.context = context;
  return { ...ordered, ...config };
}

/** Pretty-printed JSON of {@link toMachineConfig}, with a trailing newline. */
export function toJson(machine: AnyStateMachine): string {
  return `${JSON.stringify(toMachineConfig(machine), null, 2)}\n`;
}

function stateConfig(model: MachineModel, state: StateModel): JsonObject {
  const config: JsonObject = {};
  if (state.description !== undefined) config.description = state.description;
  if (state.type === 'parallel' || state.type === 'final' || state.type === 'history')
    config.type = state.type;
  if (state.initial !== undefined) config.initial = state.initial;
  if (state.tags.length > 0) config.tags = [...state.tags];
  if (state.entry.length > 0) config.entry = state.entry.map(actionJson);
  if (state.exit.length > 0) config.exit = state.exit.map(actionJson);
  if (state.invoke.length > 0) config.invoke = state.invoke.map((src) => ({ src }));
  const own = model.transitions.filter((transition) => transition.source === state.id);
  const on: Record<string, JsonValue[]> = {};
  const after: Record<string, JsonValue[]> = {};
  const always: JsonValue[] = [];
  for (const transition of own) {
    const json = transitionJson(model, state, transition);
    if (transition.kind === 'on') (on[transition.event] ??= []).push(json);
    else if (transition.kind === 'after') (after[transition.event] ??= []).push(json);
    else always.push(json);
  }
  if (Object.keys(on).length > 0) config.on = collapse(on);
  if (Object.keys(after).length > 0) config.after = collapse(after);
  if (always.length > 0) config.always = always.length === 1 ? (always[0] as JsonValue) : always;
  if (state.children.length > 0) {
    const states: JsonObject = {};
    for (const child of state.children) states[child.key] = stateConfig(model, child);
    config.states = states;
  }
  return config;
}

/** A single transition per event is written as an object, several (guarded alternatives) as an array. */
function collapse(byEvent: Record<string, JsonValue[]>): JsonObject {
  const result: JsonObject = {};
  for (const [event, list] of Object.entries(byEvent))
    result[event] = list.length === 1 ? (list[0] as JsonValue) : list;
  return result;
}

function transitionJson(model: MachineModel, source: StateModel, transition: TransitionModel): JsonObject {
  const json: JsonObject = {};
  const targets = transition.targets.map((id) => targetReference(model, source, id));
  if (targets.length === 1) json.target = targets[0] as string;
  else if (targets.length > 1) json.target = targets;
  if (transition.guard !== undefined) json.guard = transition.guard;
  if (transition.actions.length > 0) json.actions = transition.actions.map(actionJson);
  if (transition.reenter) json.reenter = true;
  return json;
}

/** A sibling is named by its key (XState's default resolution); anything else by `#id`. */
function targetReference(model: MachineModel, source: StateModel, targetId: string): string {
  const target = model.states.find((state) => state.id === targetId);
  if (
    target &&
    target.path.length === source.path.length &&
    target.path.slice(0, -1).join('\u0000') === source.path.slice(0, -1).join('\u0000')
  ) {
    return target.key;
  }
  return `#${targetId}`;
}

function actionJson(name: string): JsonValue {
  return { type: name };
}

function jsonContext(context: unknown): JsonValue | undefined {
  if (context === undefined || typeof context === 'function') return undefined;
  try {
    return JSON.parse(JSON.stringify(context)) as JsonValue;
  } catch {
    return undefined;
  }
}

/**
 * A TypeScript module with one `createMachine(<config>)` per machine: what Stately Studio's code
 * import and the XState VS Code extension read. Inline actions and guards appear by name only.
 */
export function toStudioSource(machines: ReadonlyMap<string, AnyStateMachine>): string {
  const parts = ["import { createMachine } from 'xstate';", ''];
  for (const [name, machine] of machines) {
    const identifier = `${name.replace(/[^A-Za-z0-9_$]+(.)?/g, (_match, next?: string) => (next ?? '').toUpperCase())}Machine`;
    parts.push(
      `export const ${/^[A-Za-z_$]/.test(identifier) ? identifier : `_${identifier}`} = createMachine(${JSON.stringify(toMachineConfig(machine), null, 2)});`,
      '',
    );
  }
  return parts.join('\n');
}
