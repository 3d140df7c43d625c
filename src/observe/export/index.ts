/** Drawing and exporting machines: JSON machine config (Stately Studio), Mermaid, Graphviz DOT. */
import type { AnyStateMachine } from 'xstate';
import { toDot } from './to-dot.ts';
import { toJson } from './to-json.ts';
import { toMermaid } from './to-mermaid.ts';

export { machineModel, type MachineModel, type StateModel, type TransitionModel } from './machine-model.ts';
export { toMachineConfig, toJson, toStudioSource, type JsonValue } from './to-json.ts';
export { toMermaid, modelToMermaid, mermaidIds, type MermaidDecorations } from './to-mermaid.ts';
export { toDot, modelToDot } from './to-dot.ts';
export { transitionLabel } from './labels.ts';

export const EXPORT_FORMATS = ['json', 'mermaid', 'dot'] as const;
export type ExportFormat = (typeof EXPORT_FORMATS)[number];

/** One machine in one format. */
export function exportMachine(machine: AnyStateMachine, format: ExportFormat): string {
  if (format === 'json') return toJson(machine);
  if (format === 'mermaid') return toMermaid(machine);
  return toDot(machine);
}

/** A Markdown page with each machine's Mermaid diagram (what docs/machines.md is generated from). */
export function machinesMarkdown(machines: ReadonlyMap<string, AnyStateMachine>, intro = ''): string {
  const parts = ['# Machines', ''];
  if (intro) parts.push(intro.trim(), '');
  for (const [name, machine] of machines) {
    parts.push(`## ${name}`, '');
    const description = machine.root.description;
    if (description) parts.push(description, '');
    parts.push('```mermaid', toMermaid(machine).trimEnd(), '```', '');
  }
  return parts.join('\n');
}
