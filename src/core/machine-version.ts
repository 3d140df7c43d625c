/**
 * Machine versions: what an aggregate's stored snapshots are stamped with, and the pure rules for
 * loading a snapshot stamped with another version. A version is the registry entry's explicit
 * `version`, else a fingerprint of the machine's structure (state ids and types, initial states,
 * transitions with their targets, guard and action names), so any change that can make a stored
 * snapshot mean something else changes the version, and a change to a guard's code alone does not.
 */
import type { AnyStateMachine } from 'xstate';
import type { PersistedSnapshot } from './snapshot.ts';

/** Turns a persisted snapshot of the version it is registered for into one of the next version. */
export type MigrateFunction = (
  snapshot: PersistedSnapshot,
  versions: { from: string; to: string },
) => PersistedSnapshot;

/**
 * An aggregate's `migrate` option: one function for every older version, or a map from version
 * to function, oldest first. A map's function for version V returns a snapshot of the version
 * after V in the map (its next key), or of the current version when V is the last key; steps are
 * chained from the stored version to the current one.
 */
export type MigrateOption = MigrateFunction | Readonly<Record<string, MigrateFunction>>;

/** The parts of a state node the fingerprint reads. */
interface FingerprintNode {
  id: string;
  type: string;
  states: Record<string, FingerprintNode>;
  initial?: { target: readonly FingerprintNode[] } | undefined;
  transitions: Map<string, readonly FingerprintTransition[]>;
  always?: readonly FingerprintTransition[] | undefined;
}

interface FingerprintTransition {
  target?: readonly FingerprintNode[] | undefined;
  guard?: unknown;
  actions?: readonly unknown[];
  reenter?: boolean;
}

/** A stable fingerprint of the machine's structure, as `fp-<16 hex digits>`. */
export function machineFingerprint(machine: AnyStateMachine): string {
  const parts: string[] = [];
  const visit = (node: FingerprintNode) => {
    parts.push(
      `node ${node.id} ${node.type} initial=${(node.initial?.target ?? []).map((t) => t.id).join(',')}`,
    );
    const events = [...node.transitions.keys()].sort();
    for (const event of events) {
      for (const transition of node.transitions.get(event) ?? [])
        parts.push(`on ${event} ${describeTransition(transition)}`);
    }
    for (const transition of node.always ?? []) parts.push(`always ${describeTransition(transition)}`);
    for (const child of Object.keys(node.states).sort()) visit(node.states[child]!);
  };
  visit(machine.root);
  return `fp-${hash64(parts.join('\n'))}`;
}

function describeTransition(transition: FingerprintTransition): string {
  const targets = (transition.target ?? []).map((t) => t.id).join(',');
  const actions = (transition.actions ?? []).map(nameOf).join(',');
  return `-> ${targets} guard=${nameOf(transition.guard)} actions=${actions} reenter=${String(transition.reenter ?? false)}`;
}

/** A guard's or action's name: its string, its `type`, or a function's name; inline ones are anonymous. */
function nameOf(value: unknown): string {
  if (value === undefined || value === null) return '';
  if (typeof value === 'string') return value;
  if (typeof value === 'function') return value.name ? `fn:${value.name}` : 'fn';
  if (typeof value === 'object') {
    const type = (value as { type?: unknown }).type;
    if (typeof type === 'string') return type;
    if (typeof type === 'function') return nameOf(type);
  }
  return typeof value;
}

/** FNV-1a, 64 bits as two 32-bit halves (no BigInt on the path, no crypto import in core). */
function hash64(text: string): string {
  let low = 0x84222325;
  let high = 0xcbf29ce4;
  for (let i = 0; i < text.length; i += 1) {
    low ^= text.charCodeAt(i);
    // Multiply by the 64-bit FNV prime 0x100000001b3 = 2^40 + 0x1b3, split across the halves.
    const lowTimes = low * 0x1b3;
    const carry = Math.floor(lowTimes / 0x100000000);
    const newLow = lowTimes >>> 0;
    high = (Math.imul(high, 0x1b3) + carry + ((low << 8) >>> 0)) >>> 0;
    low = newLow;
  }
  return high.toString(16).padStart(8, '0') + low.toString(16).padStart(8, '0');
}

/** Two versions' order, as far as it can be known. */
export type VersionOrder = 'same' | 'older' | 'newer';

/** What is known about a version from the store: when an entity was first committed under it. */
export interface KnownVersion {
  version: string;
  /** ms since epoch, as the first committing process's clock read it. */
  firstSeenAt: number;
}

/**
 * Whether `stored` is older or newer than `current`. Explicit numeric versions compare as
 * numbers; a version the aggregate's migrations name is older; otherwise the store's record of
 * when each version was first committed decides (a version never committed under is the newest:
 * it is being deployed now). A stored version the store does not know is taken as newer, so a
 * process never decides an entity it cannot place.
 */
export function compareVersions(
  stored: string,
  current: string,
  migrate: MigrateOption | undefined,
  known: ReadonlyMap<string, KnownVersion> | undefined,
): VersionOrder {
  if (stored === current) return 'same';
  const a = numeric(stored);
  const b = numeric(current);
  if (a !== undefined && b !== undefined) return a < b ? 'older' : 'newer';
  if (migrate !== undefined && (typeof migrate === 'function' ? false : Object.hasOwn(migrate, stored)))
    return 'older';
  const storedSeen = known?.get(stored)?.firstSeenAt;
  if (storedSeen === undefined) return 'newer';
  const currentSeen = known?.get(current)?.firstSeenAt ?? Number.POSITIVE_INFINITY;
  return storedSeen <= currentSeen ? 'older' : 'newer';
}

function numeric(version: string): number | undefined {
  if (!/^\d+(\.\d+)?$/.test(version)) return undefined;
  return Number(version);
}

/** One migration step to run: from which version to which, and the function. */
export interface MigrationStep {
  from: string;
  to: string;
  run: MigrateFunction;
}

/**
 * The steps from `stored` to `current`, or undefined when the aggregate has no migration for
 * `stored` (a plain function applies to every older version in one step).
 */
export function migrationPath(
  stored: string,
  current: string,
  migrate: MigrateOption | undefined,
): MigrationStep[] | undefined {
  if (migrate === undefined || stored === current) return undefined;
  if (typeof migrate === 'function') return [{ from: stored, to: current, run: migrate }];
  const versions = Object.keys(migrate);
  const start = versions.indexOf(stored);
  if (start === -1) return undefined;
  const steps: MigrationStep[] = [];
  for (let index = start; index < versions.length; index += 1) {
    const from = versions[index] as string;
    if (from === current) break;
    const to = versions[index + 1] ?? current;
    steps.push({ from, to, run: migrate[from] as MigrateFunction });
  }
  return steps;
}
