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

/** How an operator command uses the store; by default it may write, warnings go to the process's stderr. */
export interface OperatorUse {
  /** The command's streams (warnings, the environment for `--redis env:NAME`). */
  io?: Pick<CliIO, 'stderr' | 'env'>;
  access?: StoreAccess;
}

/** A command that only reads (the store opened read-only), with its streams. */
export function reading(io: Pick<CliIO, 'stderr' | 'env'>): OperatorUse {
  return { io, access: 'read' };
}

/** A command that writes, with its streams. */
export function writing(io: Pick<CliIO, 'stderr' | 'env'>): OperatorUse {
  return { io, access: 'write' };
}

/** The work of a command on one entity. */
type EntityWork<TResult> = (
  gatekeeper: Gatekeeper,
  entity: { aggregate: string; key: string; definition: Aggregate },
) => Promise<TResult>;

/** What openStore needs from the command's streams: where warnings go and the environment. */
export function storeUse(io: Pick<CliIO, 'stderr' | 'env'>, access: StoreAccess) {
  return { readOnly: access === 'read', warn: (message: string) => write(io.stderr, message), env: io.env };
}

/**
 * Opens the operator gatekeeper, runs `work` with it, and closes it (and its store) whatever happens.
 * `use` (before `work`, so the callback stays last) says whether the command only reads.
 */
export function withOperatorGatekeeper<TResult>(
  flags: FlagValues,
  work: (gatekeeper: Gatekeeper) => Promise<TResult>,
): Promise<TResult>;
export function withOperatorGatekeeper<TResult>(
  flags: FlagValues,
  use: OperatorUse,
  work: (gatekeeper: Gatekeeper) => Promise<TResult>,
): Promise<TResult>;
export async function withOperatorGatekeeper<TResult>(
  flags: FlagValues,
  useOrWork: OperatorUse | ((gatekeeper: Gatekeeper) => Promise<TResult>),
  maybeWork?: (gatekeeper: Gatekeeper) => Promise<TResult>,
): Promise<TResult> {
  const [use, work] =
    typeof useOrWork === 'function'
      ? [{}, useOrWork]
      : [useOrWork, maybeWork as NonNullable<typeof maybeWork>];
  const gatekeeper = createGatekeeperWithStore({
    machines: await machinesModule(stringFlag(flags, 'machines')),
    store: await openStore(flags, storeUse(use.io ?? process, use.access ?? 'write')),
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
  work: EntityWork<TResult>,
): Promise<TResult>;
export function withOperatorEntity<TResult>(
  flags: FlagValues,
  positionals: string[],
  use: OperatorUse,
  work: EntityWork<TResult>,
): Promise<TResult>;
export function withOperatorEntity<TResult>(
  flags: FlagValues,
  positionals: string[],
  useOrWork: OperatorUse | EntityWork<TResult>,
  maybeWork?: EntityWork<TResult>,
): Promise<TResult> {
  const [use, work] =
    typeof useOrWork === 'function' ? [{}, useOrWork] : [useOrWork, maybeWork as EntityWork<TResult>];
  const [aggregate, key, ...extra] = positionals;
  if (aggregate === undefined || key === undefined || extra.length > 0) {
    throw new UsageError('expected exactly two arguments: <aggregate> <key>');
  }
  return withOperatorGatekeeper(flags, use, (gatekeeper) =>
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
