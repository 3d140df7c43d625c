/**
 * The gatekeeper an operator command (inspect, history, stalled, retry, skip) works through: the
 * machines and store its flags name, no stall sweeper (a query must not change entities by itself).
 */
import type { Aggregate } from '../core/aggregate.ts';
import { createGatekeeperWithStore, type Gatekeeper } from '../gatekeeper/gatekeeper.ts';
import { stringFlag, type FlagValues } from './command.ts';
import { loadMachines } from './load-machines.ts';
import { openStore } from './open-store.ts';
import { UsageError } from './usage-error.ts';

/** Opens the operator gatekeeper, runs `work` with it, and closes it (and its store) whatever happens. */
export async function withOperatorGatekeeper<TResult>(
  flags: FlagValues,
  work: (gatekeeper: Gatekeeper) => Promise<TResult>,
): Promise<TResult> {
  const gatekeeper = createGatekeeperWithStore({
    machines: await loadMachines(stringFlag(flags, 'machines')),
    store: await openStore(flags),
    sweepIntervalMs: 0,
  });
  try {
    return await work(gatekeeper);
  } finally {
    await gatekeeper.close();
  }
}

/** The named aggregate, or a usage error listing the known ones. */
export function requireAggregate(gatekeeper: Gatekeeper, name: string): Aggregate {
  const aggregate = gatekeeper.aggregates.get(name);
  if (!aggregate) {
    throw new UsageError(
      `unknown aggregate "${name}" (known: ${[...gatekeeper.aggregates.keys()].join(', ')})`,
    );
  }
  return aggregate;
}
