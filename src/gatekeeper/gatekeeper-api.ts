/**
 * The gatekeeper's public contract: the methods a caller (CLI, Kafka runtime, UI, user code) uses,
 * and what they answer. The runtime that implements it is in gatekeeper.ts.
 */
import type { Aggregate } from '../core/aggregate.ts';
import type { AttentionEntry, HeldMark } from '../core/attention.ts';
import type { BufferedEvent, ParkedEvent } from '../core/entity.ts';
import type { HistoryEntry } from '../core/history.ts';
import type { AppliedTransition, InputSource, Outcome, StateValue } from '../core/outcome.ts';
import type { TimeMark } from '../core/time-order.ts';
import type { EntityRef, EntityStore, StalledEntity } from '../store/entity-store.ts';
import type { GatekeeperEffects } from './effects/effects-engine.ts';
import type { EffectInspection } from './effects/wire-effects.ts';
import type { GatekeeperListener } from './listeners.ts';

/** The answer to one `handle`: the event's own outcome, plus everything its drain caused. */
export interface HandleResult {
  outcome: Outcome;
  /** Every outcome in order: the event's own first, then the drained ones. */
  outcomes: Outcome[];
  transitions: AppliedTransition[];
}

/** What `inspect` shows of one entity. */
export interface EntityInspection extends EntityRef {
  state: StateValue;
  context: unknown;
  status: 'active' | 'done';
  lastSeq: number;
  /** Time mode: the last applied timed event's time (UTC) and id. */
  lastTime: TimeMark | undefined;
  version: number;
  buffered: BufferedEvent[];
  parked: ParkedEvent | undefined;
  /** Set when the entity is held (or would be on its next event): why, and what to do. */
  held: HeldMark | undefined;
  /** The machine version its snapshot is stored under, and the one this process runs. */
  storedVersion: string | undefined;
  machineVersion: string;
  /** What loading it now would do first: migrate it, restamp it, release its hold. */
  pending: string | undefined;
  recentRejections: HistoryEntry[];
  /** On a store with an effects queue: the entity's failed effect, if any, and how many wait behind it. */
  effects: EffectInspection | undefined;
}

/** A stalled entity, with how long its oldest buffered event has waited and its aggregate's limit. */
export interface StalledReport extends StalledEntity {
  ageMs: number;
  stallAfterMs: number;
}

export interface Gatekeeper {
  /**
   * Decides one event. Never throws for bad input (it answers `rejected`); throws when the store
   * fails. `source` says where the input came from (e.g. its Kafka topic, partition and offset):
   * kept with the event while it waits, and put on its dead letter if it is ever rejected.
   */
  handle(input: unknown, source?: InputSource): Promise<HandleResult>;
  /**
   * Decides inputs in order, as `handle` on each would: per-key order holds, and every input is
   * handled even after one fails. `onResult` gets each input's result as soon as it is decided;
   * the promise resolves when all are, or rejects with the first error (a store's, or one thrown
   * by `onResult`). On the embedded store the whole batch is decided synchronously, one promise
   * per batch instead of one per event. Results are handed over, not collected: thousands of
   * results kept alive at once cost more garbage collection than deciding them.
   */
  handleBatch(
    inputs: readonly unknown[],
    onResult?: (result: HandleResult, index: number) => void,
  ): Promise<void>;
  /** Rejects input that never became an event (e.g. a line or record that is not JSON) as a dead letter. */
  rejectUnparseable(raw: unknown, detail: string, source?: InputSource): Promise<HandleResult>;
  /**
   * Rejects input its transport refused before it could be decided (e.g. `key-mismatch`: a Kafka
   * record whose key is not the envelope's key) as a dead letter, keeping the envelope when it parses.
   */
  rejectInput(
    raw: unknown,
    reason: 'invalid-envelope' | 'key-mismatch' | 'input-too-large',
    detail: string,
    source?: InputSource,
  ): Promise<HandleResult>;
  inspect(aggregate: string, key: string): Promise<EntityInspection | undefined>;
  history(aggregate: string, key: string): Promise<HistoryEntry[]>;
  /** Entities whose oldest buffered event is older than their aggregate's stall limit. */
  stalled(limit?: number): Promise<StalledReport[]>;
  /** Entities that need an operator (parked or held); `attention` gives each one's reason. */
  parked(limit?: number): Promise<EntityRef[]>;
  /** Every entity that waits for an operator, with its reason: one list for parked and held ones. */
  attention(limit?: number): Promise<AttentionEntry[]>;
  /** Operator: try a parked entity's event again (a held one: load it again, as `migrate`). */
  retry(aggregate: string, key: string): Promise<Outcome[]>;
  /**
   * Operator: move a parked entity past its event and drain. On a held entity, every buffered
   * event is rejected as `operator-skipped` (reported as a dead letter) and the entity stays held.
   */
  skip(aggregate: string, key: string): Promise<Outcome[]>;
  /**
   * Operator: loads the entity again under the current machine (after a migration was deployed):
   * migrated or restamped and drained, or an OperatorActionError saying why it is still held.
   */
  migrate(aggregate: string, key: string): Promise<Outcome[]>;
  /**
   * Operator: puts the entity in its machine's initial state under the current version, keeping
   * its seq (or, with `resetSeq`, setting it to 0 so the history can be replayed), then drains.
   */
  reset(aggregate: string, key: string, options?: { resetSeq?: boolean }): Promise<Outcome[]>;
  /**
   * Releases held timed events whose hold is over and entities whose hold (see `attention`) has
   * ended, then runs the stall policies (the sweeper calls this on a timer).
   */
  sweep(): Promise<Outcome[]>;
  subscribe(listener: GatekeeperListener): () => void;
  /** Resolves when every event handed in so far is decided. */
  idle(): Promise<void>;
  readonly aggregates: ReadonlyMap<string, Aggregate>;
  readonly store: EntityStore;
  /** The transition handler's failure log and verbs; present when `effects` is configured. */
  readonly effects: GatekeeperEffects | undefined;
  residentCount(): number;
  /** Finishes in-flight work, stops the sweeper and actors, and closes the store. */
  close(): Promise<void>;
}
