/**
 * How commands open their gatekeeper. Operator commands (inspect, history, stalled, retry, skip)
 * get the machines and store their flags name and no stall sweeper (a query must not change
 * entities by itself); gating commands (demo, check, ui) also get the observers their flags ask for.
 */
import type { Aggregate } from '../core/aggregate.ts';
import { createGatekeeperWithStore, type Gatekeeper } from '../gatekeeper/gatekeeper.ts';
import { startObservers, type Observers } from '../observe/observers.ts';
import { stringFlag, write, type CliIO, type FlagValues } from './command.ts';
import { machinesModule } from './machines-flag.ts';
import { openStore } from './open-store.ts';
import { UsageError } from './usage-error.ts';

/**
 * Whether an operator command only reads (inspect, history, stalled: the store is opened read-only,
 * so they work on a full Redis, a replica or for a read-only ACL user) or writes (retry, skip).
 */
export type StoreAccess = 'read' | 'write';

/** What openStore needs from the command's streams: where warnings go and the environment. */
export function storeUse(io: CliIO, access: StoreAccess) {
  return { readOnly: access === 'read', warn: (message: string) => write(io.stderr, message), env: io.env };
}

/** Opens the operator gatekeeper, runs `work` with it, and closes it (and its store) whatever happens. */
export async function withOperatorGatekeeper<TResult>(
  flags: FlagValues,
  io: CliIO,
  access: StoreAccess,
  work: (gatekeeper: Gatekeeper) => Promise<TResult>,
): Promise<TResult> {
  const gatekeeper = createGatekeeperWithStore({
    machines: await machinesModule(stringFlag(flags, 'machines')),
    store: await openStore(flags, storeUse(io, access)),
    sweepIntervalMs: 0,
  });
  try {
    return await work(gatekeeper);
  } finally {
    await gatekeeper.close();
  }
}

/**
 * For the commands on one entity (`<aggregate> <key>`): reads the two arguments, opens the operator
 * gatekeeper, checks that the aggregate is known, runs `work` and closes the gatekeeper.
 */
export function withOperatorEntity<TResult>(
  flags: FlagValues,
  positionals: string[],
  io: CliIO,
  access: StoreAccess,
  work: (
    gatekeeper: Gatekeeper,
    entity: { aggregate: string; key: string; definition: Aggregate },
  ) => Promise<TResult>,
): Promise<TResult> {
  const [aggregate, key, ...extra] = positionals;
  if (aggregate === undefined || key === undefined || extra.length > 0) {
    throw new UsageError('expected exactly two arguments: <aggregate> <key>');
  }
  return withOperatorGatekeeper(flags, io, access, (gatekeeper) =>
    work(gatekeeper, { aggregate, key, definition: requireAggregate(gatekeeper, aggregate) }),
  );
}

/**
 * A gating command's gatekeeper: `machinesModule` (the example machines when undefined), the store
 * its flags name, and the observers they ask for (--inspect: every entity's inspection events go
 * to a WebSocket server, bounded and never blocking; `metricsPort`: a Prometheus endpoint). The
 * caller attaches the observers, and closes both.
 */
export async function openObservedGatekeeper(
  flags: FlagValues,
  io: CliIO,
  options: {
    machinesModule: string | undefined;
    metricsPort?: number | undefined;
    sweepIntervalMs?: number;
    /** Default 'write'; the web view without --demo only reads. */
    access?: StoreAccess;
  },
): Promise<{ gatekeeper: Gatekeeper; observers: Observers }> {
  const machines = await machinesModule(options.machinesModule);
  const store = await openStore(flags, storeUse(io, options.access ?? 'write'));
  const observers = await startObservers({
    metricsPort: options.metricsPort,
    inspectUrl: stringFlag(flags, 'inspect'),
    notify: (message) => write(io.stderr, message),
  });
  const gatekeeper = createGatekeeperWithStore({
    machines,
    store,
    // A reading gatekeeper runs no sweeper: its stall policies would write.
    ...(options.access === 'read'
      ? { sweepIntervalMs: 0 }
      : options.sweepIntervalMs === undefined
        ? {}
        : { sweepIntervalMs: options.sweepIntervalMs }),
    ...(observers.inspect ? { inspect: observers.inspect } : {}),
  });
  return { gatekeeper, observers };
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
