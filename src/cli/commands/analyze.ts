/**
 * `gatekeeper analyze`: what the gatekeeper learned from each machine's shape — which states
 * accept which events, types no state accepts, and cycles (where only seq or time tells past from future).
 */
import { buildAggregates, type Aggregate } from '../../core/aggregate.ts';
import { orderingNeeds } from '../../core/time-order.ts';
import { booleanFlag, EXIT, write, type Command } from '../command.ts';
import { machinesFromFlags } from '../machines-flag.ts';

export const analyzeCommand: Command = {
  name: 'analyze',
  usage: `Usage: gatekeeper analyze [--machines <module>] [--json]

Without --machines, analyses the project's example machines.`,
  options: { machines: { type: 'string' }, json: { type: 'boolean' } },
  async run(flags, _positionals, io) {
    const aggregates = buildAggregates(await machinesFromFlags(flags));
    const reports = [...aggregates.values()].map(report);
    if (booleanFlag(flags, 'json')) write(io.stdout, JSON.stringify(reports, null, 2));
    else write(io.stdout, reports.map(format).join('\n\n'));
    return EXIT.ok;
  },
};

function report(aggregate: Aggregate) {
  const { topology } = aggregate;
  return {
    aggregate: aggregate.name,
    machine: topology.machineId,
    version: aggregate.version,
    explicitVersion: aggregate.explicitVersion,
    states: Object.fromEntries(topology.leaves),
    events: Object.fromEntries(topology.acceptedIn),
    finalStates: topology.finalStates,
    neverAccepted: topology.neverAccepted,
    cycles: topology.cycles,
    ordering: orderingNeeds(topology, aggregate.holdMs),
    policies: {
      onRejected: aggregate.onRejected,
      onStall: aggregate.onStall,
      stallAfterMs: aggregate.stallAfterMs,
      maxBuffered: aggregate.maxBuffered,
      holdMs: aggregate.holdMs,
      maxFutureMs: aggregate.maxFutureMs,
    },
    warnings: [
      ...topology.cycles.map(
        (cycle) =>
          `cycle ${cycle.join(' → ')}: events with neither seq nor time cannot be told past from future here; give them seq, or time (time mode)`,
      ),
      ...topology.neverAccepted.map((type) => `payload schema for ${type}, but no state accepts ${type}`),
      ...topology.notRunHere.map(
        ({ state, feature }) =>
          `${state} has ${feature === 'after' ? 'a delayed (after) transition' : 'an invoked actor'}: the gatekeeper moves machines only on events, so it never runs`,
      ),
    ],
  };
}

function format(r: ReturnType<typeof report>): string {
  const lines = [
    `${r.aggregate} (machine #${r.machine})`,
    `  version: ${r.version}${r.explicitVersion ? '' : ' (fingerprint of the machine; set `version` in the registry to name it)'}`,
    '  states:',
  ];
  for (const [state, events] of Object.entries(r.states)) {
    const final = r.finalStates.includes(state) ? ' (final)' : '';
    lines.push(`    ${state}${final}: ${events.length > 0 ? events.join(', ') : '—'}`);
  }
  lines.push('  events:');
  for (const [event, states] of Object.entries(r.events)) lines.push(`    ${event}: in ${states.join(', ')}`);
  lines.push(
    `  policies: onRejected=${r.policies.onRejected} onStall=${r.policies.onStall} stallAfterMs=${r.policies.stallAfterMs} maxBuffered=${r.policies.maxBuffered} holdMs=${r.policies.holdMs} maxFutureMs=${r.policies.maxFutureMs}`,
    `  ordering: needs ${r.ordering.needs === 'nothing' ? 'neither seq nor time' : 'seq or time'}: ${r.ordering.advice}`,
  );
  for (const warning of r.warnings) lines.push(`  warning: ${warning}`);
  return lines.join('\n');
}
