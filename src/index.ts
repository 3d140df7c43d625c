/** gatekeeper's public API: re-exports only. */
export { createGatekeeper, type CreateGatekeeperOptions } from './create-gatekeeper.ts';
export type {
  Gatekeeper,
  GatekeeperOptions,
  HandleResult,
  EntityInspection,
  StalledReport,
} from './gatekeeper/gatekeeper.ts';
export type { GatekeeperListener } from './gatekeeper/listeners.ts';
export type {
  EffectsOptions,
  TransitionHandler,
  TransitionEffectContext,
  EffectTimers,
} from './gatekeeper/effects/options.ts';
export type { GatekeeperEffects, EffectFailure } from './gatekeeper/effects/effects-engine.ts';
export type { EffectStats } from './gatekeeper/effects/effect-stats.ts';
export type { EffectInspection } from './gatekeeper/effects/wire-effects.ts';
export { transitionIdentity } from './core/transition-identity.ts';
export type { ActorInspector } from './gatekeeper/actor-cursor.ts';
export {
  defineAggregate,
  DEFAULT_AGGREGATE_OPTIONS,
  type Aggregate,
  type AggregateDefaults,
  type AggregateInput,
  type AggregateOptions,
  type EffectExhaustedPolicy,
  type PayloadSchema,
  type MachineRegistryInput,
  type RejectionPolicy,
  type StallPolicy,
} from './core/aggregate.ts';
export { eventEnvelopeSchema, parseEnvelope, type EventEnvelope } from './core/envelope.ts';
export { analyzeMachine, type MachineTopology } from './core/topology.ts';
export {
  OUTCOMES,
  REASONS,
  type Outcome,
  type OutcomeKind,
  type OutcomeReason,
  type AppliedTransition,
  type DeadLetter,
  type InputSource,
  type StateValue,
} from './core/outcome.ts';
export type { HistoryEntry } from './core/history.ts';
export type { TimeMark } from './core/time-order.ts';
export { systemClock, ManualClock, type Clock } from './core/clock.ts';
export * from './core/errors.ts';
export { memoryStore, type MemoryStoreOptions } from './store/memory-store.ts';
export type * from './store/entity-store.ts';
