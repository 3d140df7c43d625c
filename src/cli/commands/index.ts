/**
 * Every CLI command, in the order `gatekeeper --help` lists them. Each command's module is imported
 * only when that command runs, so `--help` and light commands never load Redis, Kafka or the web view.
 */
import type { Command } from '../command.ts';

/** What the overview needs of a command without loading it, and how to load it. */
export interface CommandEntry {
  name: string;
  summary: string;
  load(): Promise<Command>;
}

export const commands: readonly CommandEntry[] = [
  {
    name: 'demo',
    summary: 'gate a generated out-of-order stream and check the result against in-order processing',
    load: async () => (await import('./demo.ts')).demoCommand,
  },
  {
    name: 'check',
    summary: 'gate an NDJSON event stream (file or stdin) and print one NDJSON line per outcome',
    load: async () => (await import('./check.ts')).checkCommand,
  },
  {
    name: 'analyze',
    summary:
      'print each machine’s topology: events per state, unused event types, cycles and whether they need seq or time',
    load: async () => (await import('./analyze.ts')).analyzeCommand,
  },
  {
    name: 'export',
    summary: 'print machines as JSON (Stately Studio), Mermaid or Graphviz DOT',
    load: async () => (await import('./export.ts')).exportCommand,
  },
  {
    name: 'history',
    summary: "print an entity's decisions, or its path drawn on its machine (Mermaid)",
    load: async () => (await import('./history.ts')).historyCommand,
  },
  {
    name: 'inspect',
    summary:
      'show one entity: state, seq, machine version, buffered events, parked or held, recent rejections',
    load: async () => (await import('./inspect.ts')).inspectCommand,
  },
  {
    name: 'stalled',
    summary: 'list entities whose buffered events wait past the stall limit (--parked: parked and held ones)',
    load: async () => (await import('./stalled.ts')).stalledCommand,
  },
  {
    name: 'retry',
    summary: 'try a parked entity’s event again, then drain',
    load: async () => (await import('./operator-action.ts')).retryCommand,
  },
  {
    name: 'skip',
    summary: 'skip a parked entity’s event, then drain',
    load: async () => (await import('./operator-action.ts')).skipCommand,
  },
  {
    name: 'effects',
    summary:
      'list transitions whose handler failed (holding their entity’s later effects); retry or skip them',
    load: async () => (await import('./effects.ts')).effectsCommand,
  },
  {
    name: 'migrate',
    summary: 'load held entities again under the deployed machines (migrate, restamp, drain)',
    load: async () => (await import('./lifecycle-action.ts')).migrateCommand,
  },
  {
    name: 'reset',
    summary: 'start a held entity again from its machine’s initial state',
    load: async () => (await import('./lifecycle-action.ts')).resetCommand,
  },
  {
    name: 'versions',
    summary:
      'dry run of a machine change: stored entities per version, and what would migrate, carry on or be held',
    load: async () => (await import('./versions.ts')).versionsCommand,
  },
  {
    name: 'run',
    summary: 'consume events from Kafka, gate them, publish legal transitions and dead letters',
    load: async () => (await import('./run.ts')).runCommand,
  },
  {
    name: 'reshard',
    summary: 'move a Redis namespace to a new shard layout (after the input partition count changed)',
    load: async () => (await import('./reshard.ts')).reshardCommand,
  },
  {
    name: 'ui',
    summary: 'serve a local web view: machines, live counts per state, entity search and history',
    load: async () => (await import('./ui.ts')).uiCommand,
  },
];
