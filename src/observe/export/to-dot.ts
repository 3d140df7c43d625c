/**
 * A machine as a Graphviz DOT digraph: leaf states are rounded boxes (final ones doubled),
 * compound states are clusters, the initial state is marked by a point.
 */
import type { AnyStateMachine } from 'xstate';
import { transitionLabel } from './labels.ts';
import { machineModel, type MachineModel, type StateModel } from './machine-model.ts';

export function toDot(machine: AnyStateMachine): string {
  return modelToDot(machineModel(machine));
}

export function modelToDot(model: MachineModel): string {
  const lines: string[] = [
    `digraph ${quote(model.id)} {`,
    '  rankdir=LR;',
    '  compound=true;',
    '  fontname="Helvetica";',
  ];
  lines.push(
    '  node [shape=box, style=rounded, fontname="Helvetica"];',
    '  edge [fontname="Helvetica", fontsize=10];',
  );
  if (model.description !== undefined) lines.push(`  label=${quote(model.description)};`, '  labelloc=t;');
  const byId = new Map(model.states.map((state) => [state.id, state]));
  /** A compound state is drawn as a cluster; edges to it end at its entry leaf, clipped to the cluster. */
  const anchor = (id: string): string => {
    let state = byId.get(id);
    while (state && state.children.length > 0) {
      state = state.children.find((child) => child.key === state?.initial) ?? state.children[0];
    }
    return state?.id ?? id;
  };
  const writeState = (state: StateModel, indent: string) => {
    if (state.children.length === 0) {
      const attributes = [`label=${quote(state.key)}`];
      if (state.type === 'final') attributes.push('peripheries=2');
      if (state.description !== undefined) attributes.push(`tooltip=${quote(state.description)}`);
      lines.push(`${indent}${quote(state.id)} [${attributes.join(', ')}];`);
      return;
    }
    lines.push(`${indent}subgraph ${quote(`cluster_${state.id}`)} {`);
    lines.push(
      `${indent}  label=${quote(state.type === 'parallel' ? `${state.key} (parallel)` : state.key)};`,
    );
    lines.push(`${indent}  style=${state.type === 'parallel' ? 'dashed' : 'rounded'};`);
    writeChildren(state, `${indent}  `);
    lines.push(`${indent}}`);
  };
  const writeChildren = (state: StateModel, indent: string) => {
    if (state.initial !== undefined && state.type !== 'parallel') {
      const start = `${state.id}.__initial`;
      lines.push(`${indent}${quote(start)} [shape=point, width=0.12, label=""];`);
      const initial = state.children.find((child) => child.key === state.initial);
      if (initial)
        lines.push(`${indent}${quote(start)} -> ${quote(anchor(initial.id))}${clip(undefined, initial)};`);
    }
    for (const child of state.children) writeState(child, indent);
  };
  writeChildren(model.root, '  ');
  for (const transition of model.transitions) {
    if (transition.source === model.root.id) continue;
    const source = byId.get(transition.source);
    const targets = transition.targets.length === 0 ? [transition.source] : transition.targets;
    for (const targetId of targets) {
      const target = byId.get(targetId);
      const attributes = [`label=${quote(transitionLabel(transition))}`];
      const clipping = clipAttributes(source, target);
      lines.push(
        `  ${quote(anchor(transition.source))} -> ${quote(anchor(targetId))} [${[...attributes, ...clipping].join(', ')}];`,
      );
    }
  }
  lines.push('}');
  return `${lines.join('\n')}\n`;
}

function clip(source: StateModel | undefined, target: StateModel | undefined): string {
  const attributes = clipAttributes(source, target);
  return attributes.length === 0 ? '' : ` [${attributes.join(', ')}]`;
}

function clipAttributes(source: StateModel | undefined, target: StateModel | undefined): string[] {
  const attributes: string[] = [];
  if (source && source.children.length > 0) attributes.push(`ltail=${quote(`cluster_${source.id}`)}`);
  if (target && target.children.length > 0) attributes.push(`lhead=${quote(`cluster_${target.id}`)}`);
  return attributes;
}

function quote(text: string): string {
  return `"${text.replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/\n/g, '\\n')}"`;
}
