/** What a gatekeeper is made from, and the checks on its numeric limits. */
import type { AggregateDefaults, MachineRegistryInput } from '../core/aggregate.ts';
import type { Clock } from '../core/clock.ts';
import { InvalidConfigError } from '../core/errors.ts';
import type { EffectStore } from '../store/effect-queue.ts';
import type { EntityStore } from '../store/entity-store.ts';
import type { ActorInspector } from './actor-cursor.ts';
import type { EffectsOptions, EffectTimers } from './effects/options.ts';

export interface GatekeeperOptions {
  /** Aggregate name → XState machine, or `{ machine, payloads, onRejected, … }`. */
  machines: MachineRegistryInput;
  /** Where entity state lives; the embedded memory store when omitted. */
  store: EntityStore;
  /** Defaults for every aggregate's policies and limits. */
  defaults?: Partial<AggregateDefaults>;
  /** Live actors kept in memory before idle ones are evicted (default 100,000). */
  maxResidentEntities?: number;
  /** Recent event ids remembered per entity for deduplication (default 64). */
  dedupWindow?: number;
  /**
   * How often the sweeper runs (stall policies, hold releases), in ms; 0 turns it off. Default: a
   * quarter of the smallest stall limit (1 s to 60 s), or half the smallest hold (at least 50 ms)
   * when that is sooner.
   */
  sweepIntervalMs?: number;
  clock?: Clock;
  /** Receives XState inspection events from every entity actor. */
  inspect?: ActorInspector;
  /** Times a decision is retried after another process committed the entity first (default 20). */
  maxConflictRetries?: number;
  /**
   * A durable transition handler (docs/effects.md): run for every applied transition after its
   * commit, at least once, in per-entity order, with retries and holds. The store must keep an
   * effects queue (`effects: true`).
   */
  effects?: EffectsOptions;
  /**
   * Which shards' effects this process runs: 'all' (default), or 'manual' for the Kafka runtime,
   * which starts one runner per input partition it owns (`effectsEngineOf`).
   */
  effectShards?: 'all' | 'manual';
  /**
   * Where the effect runners read and write the effects queue (default `store.effects`): the Kafka
   * runtime gives them the relays' connection, so they never wait behind pipelined commits.
   */
  effectStore?: EffectStore | undefined;
  /** Timers and randomness of the effect runners (tests make back-offs short). */
  effectTimers?: EffectTimers;
  /** Told about store failures the effect runners retry (default: a process warning every 10 s at most). */
  onEffectError?: (error: unknown, where: string) => void;
}

/** The limits a gatekeeper runs with, defaulted and checked. */
export interface GatekeeperLimits {
  dedupWindow: number;
  maxConflictRetries: number;
  maxResidentEntities: number;
}

/** Defaults the numeric limits and throws InvalidConfigError for one that is not a positive integer. */
export function resolveLimits(options: GatekeeperOptions): GatekeeperLimits {
  return {
    dedupWindow: positive('dedupWindow', options.dedupWindow ?? 64),
    maxConflictRetries: positive('maxConflictRetries', options.maxConflictRetries ?? 20),
    maxResidentEntities: positive('maxResidentEntities', options.maxResidentEntities ?? 100_000),
  };
}

function positive(name: string, value: number): number {
  if (!Number.isInteger(value) || value <= 0)
    throw new InvalidConfigError(`${name} must be a positive integer (got ${value})`);
  return value;
}
