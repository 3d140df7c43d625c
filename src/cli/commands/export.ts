/**
 * `gatekeeper export`: each machine of a registry as a JSON machine config (for Stately Studio),
 * a Mermaid state diagram, a Graphviz DOT graph, or a Markdown page of Mermaid diagrams.
 */
import type { AnyStateMachine } from 'xstate';
import { buildAggregates } from '../../core/aggregate.ts';
import {
  exportMachine,
  machinesMarkdown,
  toMachineConfig,
  toStudioSource,
} from '../../observe/export/index.ts';
import { EXIT, stringFlag, write, type Command } from '../command.ts';
import { machinesFromFlags } from '../machines-flag.ts';
import { UsageError } from '../usage-error.ts';

const FORMATS = ['json', 'mermaid', 'dot', 'markdown', 'studio'] as const;

export const exportCommand: Command = {
  name: 'export',
  usage: `Usage: gatekeeper export [--machines <module>] [--aggregate <name>] [--format json|mermaid|dot|markdown|studio]

Prints each machine of the registry (the examples when --machines is omitted), or only
--aggregate's. Formats:
  json      the machine config createMachine() takes, functions replaced by their names; paste it
            into Stately Studio's import as createMachine(<json>). Several machines: one object
            keyed by aggregate name.
  mermaid   a stateDiagram-v2 (default); several machines are separated by a %% comment line,
            so pass --aggregate for a file that renders on its own
  dot       a Graphviz digraph per machine (render with: dot -Tsvg)
  markdown  a page with a Mermaid diagram per machine (docs/machines.md is made with it)
  studio    a TypeScript module with one createMachine({...}) per machine, for Stately Studio's
            code import or the XState VS Code extension`,
  options: {
    machines: { type: 'string' },
    aggregate: { type: 'string' },
    format: { type: 'string', default: 'mermaid' },
  },
  async run(flags, _positionals, io) {
    const format = stringFlag(flags, 'format') ?? 'mermaid';
    if (!(FORMATS as readonly string[]).includes(format)) {
      throw new UsageError(`--format must be one of ${FORMATS.join(', ')} (got ${format})`);
    }
    const aggregates = buildAggregates(await machinesFromFlags(flags));
    const wanted = stringFlag(flags, 'aggregate');
    const selected = new Map<string, AnyStateMachine>();
    for (const [name, aggregate] of aggregates)
      if (wanted === undefined || wanted === name) selected.set(name, aggregate.machine);
    if (selected.size === 0) {
      throw new UsageError(`unknown aggregate "${wanted}" (known: ${[...aggregates.keys()].join(', ')})`);
    }
    write(io.stdout, render(selected, format as (typeof FORMATS)[number]));
    return EXIT.ok;
  },
};

function render(machines: Map<string, AnyStateMachine>, format: (typeof FORMATS)[number]): string {
  if (format === 'markdown') return machinesMarkdown(machines);
  if (format === 'studio') return toStudioSource(machines);
  if (format === 'json') {
    if (machines.size === 1) return exportMachine([...machines.values()][0] as AnyStateMachine, 'json');
    const all = Object.fromEntries([...machines].map(([name, machine]) => [name, toMachineConfig(machine)]));
    return `${JSON.stringify(all, null, 2)}\n`;
  }
  const single = machines.size === 1;
  return [...machines]
    .map(([name, machine]) => {
      const text = exportMachine(machine, format);
      if (single) return text;
      return format === 'dot' ? `// aggregate: ${name}\n${text}` : `%% aggregate: ${name}\n${text}`;
    })
    .join('\n');
}
