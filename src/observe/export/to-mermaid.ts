/**
 * A machine as a Mermaid `stateDiagram-v2`. Compound states become nested `state { }` blocks,
 * parallel regions are separated by `--`, final states point to `[*]`. Optional decorations
 * (classes, replaced edge labels, notes, extra edges) let the history view draw an entity's path
 * on the same diagram.
 */
import type { AnyStateMachine } from 'xstate';
import { transitionLabel } from './labels.ts';
import { machineModel, type MachineModel, type StateModel, type TransitionModel } from './machine-model.ts';

/** What a caller may add to the plain diagram. State ids are XState ids ("order.placed"). */
export interface MermaidDecorations {
  /** `classDef` lines: class name → CSS-like style ("fill:#fde68a,stroke:#b45309"). */
  classDefs?: ReadonlyMap<string, string>;
  /** State id → class names applied with `class`. */
  stateClasses?: ReadonlyMap<string, readonly string[]>;
  /** Transition id → label used instead of the declared one. */
  edgeLabels?: ReadonlyMap<string, string>;
  /** Edges that are not declared transitions (e.g. an operator skip), drawn at the top level. */
  extraEdges?: readonly { from: string; to: string; label: string }[];
  /** State id → note lines, drawn `right of` the state. */
  notes?: ReadonlyMap<string, readonly string[]>;
  /** Comment lines (`%%`) written after the header. */
  comments?: readonly string[];
}

export function toMermaid(machine: AnyStateMachine, decorations: MermaidDecorations = {}): string {
  return modelToMermaid(machineModel(machine), decorations);
}

export function modelToMermaid(model: MachineModel, decorations: MermaidDecorations = {}): string {
  const ids = mermaidIds(model);
  const sid = (id: string) => ids.get(id) ?? sanitize(id);
  const lines: string[] = ['stateDiagram-v2'];
  for (const comment of decorations.comments ?? []) lines.push(`  %% ${oneLine(comment)}`);
  const placed = new Set<string>();
  const bySource = new Map<string, TransitionModel[]>();
  for (const transition of model.transitions) {
    const list = bySource.get(transition.source) ?? [];
    list.push(transition);
    bySource.set(transition.source, list);
  }
  const parentOf = new Map<string, string>();
  for (const state of model.states) for (const child of state.children) parentOf.set(child.id, state.id);

  const edge = (transition: TransitionModel, target: string) => {
    const label = decorations.edgeLabels?.get(transition.id) ?? transitionLabel(transition);
    return `${sid(transition.source)} --> ${sid(target)} : ${escapeLabel(label)}`;
  };

  /** Writes the children of `state` at `indent`, with their internal edges. */
  const writeScope = (state: StateModel, indent: string) => {
    if (state.type === 'parallel') {
      state.children.forEach((region, i) => {
        if (i > 0) lines.push(`${indent}--`);
        writeState(region, indent);
      });
      return;
    }
    if (state.initial !== undefined) {
      const initial = state.children.find((child) => child.key === state.initial);
      if (initial) lines.push(`${indent}[*] --> ${sid(initial.id)}`);
    }
    for (const child of state.children) writeState(child, indent);
    // Edges whose source and targets all sit directly in this scope are drawn inside it.
    for (const child of state.children) {
      for (const transition of bySource.get(child.id) ?? []) {
        const targets = transition.targets.length === 0 ? [transition.source] : transition.targets;
        if (!targets.every((target) => parentOf.get(target) === state.id)) continue;
        for (const target of targets) lines.push(`${indent}${edge(transition, target)}`);
        placed.add(transition.id);
      }
    }
    for (const child of state.children)
      if (child.type === 'final') lines.push(`${indent}${sid(child.id)} --> [*]`);
  };

  const writeState = (state: StateModel, indent: string) => {
    lines.push(`${indent}state "${escapeName(state.key)}" as ${sid(state.id)}`);
    if (state.children.length > 0) {
      lines.push(`${indent}state ${sid(state.id)} {`);
      writeScope(state, `${indent}  `);
      lines.push(`${indent}}`);
    }
  };

  writeScope(model.root, '  ');
  for (const transition of model.transitions) {
    if (placed.has(transition.id)) continue;
    const targets = transition.targets.length === 0 ? [transition.source] : transition.targets;
    // A transition declared on the root (any state) is drawn from the root's initial child.
    if (transition.source === model.root.id) continue;
    for (const target of targets) lines.push(`  ${edge(transition, target)}`);
  }
  for (const extra of decorations.extraEdges ?? []) {
    lines.push(`  ${sid(extra.from)} --> ${sid(extra.to)} : ${escapeLabel(extra.label)}`);
  }
  for (const [stateId, noteLines] of decorations.notes ?? []) {
    if (noteLines.length === 0) continue;
    lines.push(`  note right of ${sid(stateId)}`);
    for (const line of noteLines) lines.push(`    ${escapeNote(line)}`);
    lines.push('  end note');
  }
  for (const [name, style] of decorations.classDefs ?? []) lines.push(`  classDef ${name} ${style}`);
  const byClass = new Map<string, string[]>();
  for (const [stateId, classes] of decorations.stateClasses ?? []) {
    for (const name of classes) byClass.set(name, [...(byClass.get(name) ?? []), sid(stateId)]);
  }
  for (const [name, members] of byClass) lines.push(`  class ${members.join(',')} ${name}`);
  return `${lines.join('\n')}\n`;
}

/** XState id → Mermaid-safe id, unique within the diagram ("order.placed" → "order_placed"). */
export function mermaidIds(model: MachineModel): Map<string, string> {
  const ids = new Map<string, string>();
  const used = new Set<string>();
  for (const state of model.states) {
    let candidate = sanitize(state.id);
    for (let n = 2; used.has(candidate); n += 1) candidate = `${sanitize(state.id)}_${n}`;
    used.add(candidate);
    ids.set(state.id, candidate);
  }
  return ids;
}

function sanitize(id: string): string {
  const cleaned = id.replace(/[^A-Za-z0-9_]/g, '_');
  return /^[A-Za-z]/.test(cleaned) ? cleaned : `s_${cleaned}`;
}

function oneLine(text: string): string {
  return text.replace(/[\r\n]+/g, ' ');
}

/** Mermaid ends a label at a newline and treats `;` and `#…;` specially. */
function escapeLabel(label: string): string {
  return oneLine(label).replace(/#/g, '#35;').replace(/;/g, '#59;').replace(/:/g, '#58;');
}

function escapeName(name: string): string {
  return oneLine(name).replace(/"/g, '#quot;');
}

function escapeNote(line: string): string {
  return oneLine(line).replace(/^end note$/i, 'end  note');
}
