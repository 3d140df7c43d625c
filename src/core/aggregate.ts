/**
 * Aggregate definitions: a machine plus the per-aggregate options (payload schemas, policies).
 * Users may register a bare XState machine or `{ machine, payloads, … }`; both normalise here.
 */
import { z } from 'zod';
import type { AnyStateMachine } from 'xstate';
import { InvalidRegistryError } from './errors.ts';
import { machineFingerprint, type MigrateFunction, type MigrateOption } from './machine-version.ts';
import { analyzeMachine, type MachineTopology } from './topology.ts';

/** What a rejected event at the entity's next seq does to the sequence. */
export type RejectionPolicy = 'skip' | 'park';
/** What happens to an entity whose oldest buffered event is older than `stallAfterMs`. */
export type StallPolicy = 'keep' | 'dead-letter' | 'skip-gap';
/**
 * What happens to a transition whose handler failed its last attempt (docs/effects.md): `hold` it
 * in the failure log and hold the entity's later effects for an operator, or `dead-letter` it
 * (reason `effect-failed`) and go on with the entity's next effect.
 */
export type EffectExhaustedPolicy = 'hold' | 'dead-letter';

/**
 * A payload schema: anything with zod's `safeParse` — a zod 3 or 4 schema from the user's own zod.
 * Structural on purpose, so a schema built with another copy or version of zod than ours type-checks.
 */
export interface PayloadSchema {
  safeParse(
    value: unknown,
  ):
    | { success: true; data: unknown }
    | { success: false; error: { issues: readonly { path: readonly PropertyKey[]; message: string }[] } };
}

/** Per-aggregate options; all optional, with the defaults documented in the README. */
export interface AggregateOptions {
  /** A schema (zod) per event type for `payload`. */
  payloads?: Record<string, PayloadSchema>;
  onRejected?: RejectionPolicy;
  onStall?: StallPolicy;
  onEffectExhausted?: EffectExhaustedPolicy;
  stallAfterMs?: number;
  maxBuffered?: number;
  /**
   * The machine's version, stamped on every committed snapshot (default: a fingerprint of the
   * machine's structure). Numeric versions ("1", "2", 3) are ordered as numbers.
   */
  version?: string | number;
  /** Turns snapshots stored under older versions into snapshots of this one (see docs/changing-machines.md). */
  migrate?: MigrateOption;
  /**
   * Time mode: how long (ms of the gatekeeper's clock) an unsequenced timed event waits in the
   * buffer for earlier-timed ones before it is released in event-time order; 0 (default) applies
   * it at once (last writer wins). Must be below `stallAfterMs`.
   */
  holdMs?: number;
  /** Time mode: how far an event's `time` may lie ahead of the clock before it is rejected (default 60 s). */
  maxFutureMs?: number;
}

/** How a user registers one aggregate: the machine alone, or the machine with options. */
export type AggregateInput = AnyStateMachine | ({ machine: AnyStateMachine } & AggregateOptions);

/** A registry module's default export: aggregate name → machine or `{ machine, …options }`. */
export type MachineRegistryInput = Record<string, AggregateInput>;

/** Engine-wide defaults, overridable per aggregate. */
export interface AggregateDefaults {
  onRejected: RejectionPolicy;
  onStall: StallPolicy;
  onEffectExhausted: EffectExhaustedPolicy;
  stallAfterMs: number;
  maxBuffered: number;
  holdMs: number;
  maxFutureMs: number;
}

export const DEFAULT_AGGREGATE_OPTIONS: AggregateDefaults = {
  onRejected: 'skip',
  onStall: 'keep',
  onEffectExhausted: 'hold',
  stallAfterMs: 5 * 60_000,
  maxBuffered: 1_000,
  holdMs: 0,
  maxFutureMs: 60_000,
};

/** A registered aggregate, analysed once. */
export interface Aggregate extends AggregateDefaults {
  name: string;
  machine: AnyStateMachine;
  payloads: Record<string, PayloadSchema>;
  topology: MachineTopology;
  /** The version stamped on its snapshots: explicit, or the machine's fingerprint. */
  version: string;
  /** Whether `version` was given in the registry (else it is a fingerprint). */
  explicitVersion: boolean;
  migrate: MigrateOption | undefined;
}

/** Identity helper that gives users type checking on the options object. */
export function defineAggregate<TMachine extends AnyStateMachine>(
  definition: { machine: TMachine } & AggregateOptions,
): { machine: TMachine } & AggregateOptions {
  return definition;
}

const optionsSchema = z
  .object({
    payloads: z
      .record(z.string(), z.custom<PayloadSchema>(isPayloadSchema, 'must be a zod schema'))
      .optional(),
    onRejected: z.enum(['skip', 'park']).optional(),
    onStall: z.enum(['keep', 'dead-letter', 'skip-gap']).optional(),
    onEffectExhausted: z.enum(['hold', 'dead-letter']).optional(),
    stallAfterMs: z.number().int().positive().optional(),
    maxBuffered: z.number().int().positive().optional(),
    version: z.union([z.string().min(1).max(200), z.number().int().nonnegative()]).optional(),
    migrate: z
      .union([
        z.custom<MigrateOption>((value) => typeof value === 'function', 'must be a function'),
        z.record(
          z.string(),
          z.custom<MigrateFunction>((value) => typeof value === 'function', 'must be a function'),
        ),
      ])
      .optional(),
    holdMs: z.number().int().nonnegative().optional(),
    maxFutureMs: z.number().int().nonnegative().optional(),
  })
  .strict();

function isPayloadSchema(value: unknown): value is PayloadSchema {
  return (
    typeof value === 'object' &&
    value !== null &&
    typeof (value as { safeParse?: unknown }).safeParse === 'function'
  );
}

/** XState machines carry `root` and `transition`; checked structurally so two xstate copies still work. */
export function isStateMachine(value: unknown): value is AnyStateMachine {
  if (typeof value !== 'object' || value === null) return false;
  const candidate = value as { root?: unknown; transition?: unknown; getInitialSnapshot?: unknown };
  return (
    typeof candidate.root === 'object' &&
    typeof candidate.transition === 'function' &&
    typeof candidate.getInitialSnapshot === 'function'
  );
}

/** Validates and analyses a whole registry; throws InvalidRegistryError naming the bad entry. */
export function buildAggregates(
  input: unknown,
  defaults: Partial<AggregateDefaults> = {},
): Map<string, Aggregate> {
  if (typeof input !== 'object' || input === null || Array.isArray(input)) {
    throw new InvalidRegistryError(
      'the machines registry must be an object mapping aggregate names to XState machines (e.g. `export default { order: orderMachine }`)',
    );
  }
  const merged: AggregateDefaults = { ...DEFAULT_AGGREGATE_OPTIONS, ...defaults };
  const aggregates = new Map<string, Aggregate>();
  for (const [name, entry] of Object.entries(input as Record<string, unknown>)) {
    aggregates.set(name, buildAggregate(name, entry, merged));
  }
  if (aggregates.size === 0) throw new InvalidRegistryError('the machines registry is empty');
  return aggregates;
}

function buildAggregate(name: string, entry: unknown, defaults: AggregateDefaults): Aggregate {
  if (isStateMachine(entry)) return finish(name, entry, {}, defaults);
  if (
    typeof entry === 'object' &&
    entry !== null &&
    isStateMachine((entry as { machine?: unknown }).machine)
  ) {
    const { machine, ...rest } = entry as { machine: AnyStateMachine } & Record<string, unknown>;
    const parsed = optionsSchema.safeParse(rest);
    if (!parsed.success) {
      throw new InvalidRegistryError(
        `aggregate "${name}": ${parsed.error.issues.map((i) => `${i.path.join('.') || 'options'}: ${i.message}`).join('; ')}`,
      );
    }
    return finish(name, machine, parsed.data, defaults);
  }
  throw new InvalidRegistryError(
    `aggregate "${name}" is neither an XState machine nor { machine, ...options } (got ${describe(entry)})`,
  );
}

function finish(
  name: string,
  machine: AnyStateMachine,
  options: AggregateOptions,
  defaults: AggregateDefaults,
): Aggregate {
  const stallAfterMs = options.stallAfterMs ?? defaults.stallAfterMs;
  const holdMs = options.holdMs ?? defaults.holdMs;
  const maxFutureMs = options.maxFutureMs ?? defaults.maxFutureMs;
  // Defaults come from code, not through the schema above: checked here for both.
  for (const [option, value] of [
    ['holdMs', holdMs],
    ['maxFutureMs', maxFutureMs],
  ] as const) {
    if (!Number.isSafeInteger(value) || value < 0)
      throw new InvalidRegistryError(
        `aggregate "${name}": ${option} must be a whole number of milliseconds >= 0 (got ${String(value)})`,
      );
  }
  // A held event older than the stall limit would be stalled (and maybe dead-lettered) before
  // its release: the hold must end first.
  if (holdMs >= stallAfterMs) {
    throw new InvalidRegistryError(
      `aggregate "${name}": holdMs (${holdMs}) must be smaller than stallAfterMs (${stallAfterMs}), or held events stall before they are released`,
    );
  }
  return {
    name,
    machine,
    payloads: options.payloads ?? {},
    onRejected: options.onRejected ?? defaults.onRejected,
    onStall: options.onStall ?? defaults.onStall,
    onEffectExhausted: options.onEffectExhausted ?? defaults.onEffectExhausted,
    stallAfterMs,
    maxBuffered: options.maxBuffered ?? defaults.maxBuffered,
    version: options.version === undefined ? machineFingerprint(machine) : String(options.version),
    explicitVersion: options.version !== undefined,
    migrate: options.migrate,
    holdMs,
    maxFutureMs,
    topology: analyzeMachine(machine, Object.keys(options.payloads ?? {})),
  };
}

function describe(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'an array';
  return typeof value === 'object'
    ? `an object with keys ${Object.keys(value).join(', ') || '(none)'}`
    : typeof value;
}
