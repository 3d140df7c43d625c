/**
 * Prints an entity's stored history: as text (one line per decision), JSON, or the machine's
 * Mermaid diagram with the path the entity took highlighted, the applied transitions numbered in
 * order and the buffered, discarded and rejected events noted beside the state they found it in.
 */
import type { AnyStateMachine } from 'xstate';
import type { HistoryEntry } from '../../core/history.ts';
import type { StateValue } from '../../core/outcome.ts';
import { transitionLabel } from '../export/labels.ts';
import { modelToMermaid } from '../export/to-mermaid.ts';
import { entityPath } from './entity-path.ts';

export const HISTORY_FORMATS = ['text', 'json', 'mermaid'] as const;
export type HistoryFormat = (typeof HISTORY_FORMATS)[number];

/** Notes longer than this per state are cut, with a "… N more" line. */
const MAX_NOTE_LINES = 8;

export interface HistoryTitle {
  aggregate: string;
  key: string;
}

export function renderHistory(
  format: HistoryFormat,
  machine: AnyStateMachine,
  title: HistoryTitle,
  history: readonly HistoryEntry[],
): string {
  if (format === 'json') return `${JSON.stringify(history, null, 2)}\n`;
  if (format === 'mermaid') return historyMermaid(machine, title, history);
  return historyText(title, history);
}

/** The machine diagram with the entity's path drawn on it. */
export function historyMermaid(
  machine: AnyStateMachine,
  title: HistoryTitle,
  history: readonly HistoryEntry[],
): string {
  const path = entityPath(machine, history);
  const edgeLabels = new Map<string, string>();
  const stepsByTransition = new Map<string, number[]>();
  const extraEdges: { from: string; to: string; label: string }[] = [];
  for (const step of path.steps) {
    if (step.transition) {
      stepsByTransition.set(step.transition.id, [
        ...(stepsByTransition.get(step.transition.id) ?? []),
        step.step,
      ]);
    } else if (step.from[0] !== undefined && step.to[0] !== undefined) {
      extraEdges.push({
        from: step.from[0],
        to: step.to[0],
        label: `[${step.step}] ${step.entry.type ?? '?'} (${step.entry.reason})`,
      });
    }
  }
  for (const [id, numbers] of stepsByTransition) {
    const transition = path.model.transitions.find((candidate) => candidate.id === id);
    if (transition) edgeLabels.set(id, `[${numbers.join(',')}] ${transitionLabel(transition)}`);
  }
  const notes = new Map<string, string[]>();
  for (const held of path.held) {
    const state = held.states[0] ?? path.current[0];
    if (state === undefined) continue;
    const list = notes.get(state) ?? [];
    list.push(describeHeld(held.entry));
    notes.set(state, list);
  }
  for (const [state, lines] of notes) {
    if (lines.length > MAX_NOTE_LINES)
      notes.set(state, [
        ...lines.slice(0, MAX_NOTE_LINES - 1),
        `… ${lines.length - MAX_NOTE_LINES + 1} more`,
      ]);
  }
  const stateClasses = new Map<string, string[]>();
  for (const id of path.visited) stateClasses.set(id, ['visited']);
  for (const id of path.current) stateClasses.set(id, ['current']);
  return modelToMermaid(path.model, {
    comments: [
      `history of ${title.aggregate}/${title.key}: ${history.length} decisions, ${path.steps.length} applied, ${path.held.length} held back or refused`,
      'visited states are blue, the current state dark; [n] numbers the applied transitions in order',
    ],
    edgeLabels,
    extraEdges,
    notes,
    classDefs: new Map([
      ['visited', 'fill:#dbeafe,stroke:#1d4ed8,stroke-width:2px'],
      ['current', 'fill:#1d4ed8,color:#ffffff,stroke:#1e3a8a,stroke-width:3px'],
    ]),
    stateClasses,
  });
}

function describeHeld(entry: HistoryEntry): string {
  const seq = entry.seq === null ? '' : ` seq ${entry.seq}`;
  return `${entry.outcome}${seq} ${entry.type ?? '(no type)'} (${entry.reason})`;
}

/** One line per decision, oldest first. */
export function historyText(title: HistoryTitle, history: readonly HistoryEntry[]): string {
  const lines = [`${title.aggregate}/${title.key}: ${history.length} decisions (oldest first)`, ''];
  lines.push(
    'time                      seq  type                            outcome    reason              state',
  );
  for (const entry of history) {
    const state =
      entry.outcome === 'applied'
        ? `${showState(entry.from)} → ${showState(entry.state)}`
        : showState(entry.state);
    lines.push(
      [
        new Date(entry.at).toISOString().padEnd(24),
        String(entry.seq ?? '-').padStart(4),
        (entry.type ?? '-').padEnd(30),
        entry.outcome.padEnd(9),
        entry.reason.padEnd(18),
        `${state}${entry.fromBuffer ? '  (from buffer)' : ''}${entry.detail ? `  — ${entry.detail}` : ''}`,
      ].join('  '),
    );
  }
  return `${lines.join('\n')}\n`;
}

function showState(value: StateValue | null | undefined): string {
  if (value === null || value === undefined) return '-';
  return typeof value === 'string' ? value : JSON.stringify(value);
}
