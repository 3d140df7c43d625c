/**
 * The gatekeeper: routes each event to its entity's mailbox, hydrates the entity, runs the
 * decision rules against its live actor, commits the decision atomically and tells listeners.
 * This file wires the parts and takes the inputs; the contract is in gatekeeper-api.ts, the
 * decide-and-commit loop in decision-loop.ts, the operator verbs and the sweep beside them.
 */
import { buildAggregates, type Aggregate } from '../core/aggregate.ts';
import type { AttentionEntry } from '../core/attention.ts';
import { systemClock, type Clock } from '../core/clock.ts';
import { decide } from '../core/decide.ts';
import { parseEnvelope } from '../core/envelope.ts';
import { ClosedError, InvalidConfigError, OperatorActionError } from '../core/errors.ts';
import type { HistoryEntry } from '../core/history.ts';
import type { InputSource, Outcome } from '../core/outcome.ts';
import type { EntityRef, EntityStore } from '../store/entity-store.ts';
import { readAttention } from './attention-list.ts';
import { DecisionLoop, toHandleResult } from './decision-loop.ts';
import type { EffectsEngine, GatekeeperEffects } from './effects/effects-engine.ts';
import { createEffectsEngine, effectAttention } from './effects/wire-effects.ts';
import { handleForeignEvent } from './foreign-events.ts';
import type { EntityInspection, Gatekeeper, HandleResult, StalledReport } from './gatekeeper-api.ts';
import { resolveLimits, type GatekeeperOptions } from './gatekeeper-options.ts';
import { HeldEntities } from './held-entities.ts';
import { inspectEntity } from './inspect-entity.ts';
import { migrateEntity, resetEntity } from './lifecycle-verbs.ts';
import { Listeners, type GatekeeperListener } from './listeners.ts';
import { Mailboxes } from './mailbox.ts';
import { retryEntity, skipEntity } from './operator-verbs.ts';
import { rejectWithoutEntity } from './reject-without-entity.ts';
import { entityId, ResidentEntities } from './resident-entities.ts';
import { ResidentLoader } from './resident-loader.ts';
import { StallSweeper } from './stall-sweeper.ts';
import { sweep, sweepInterval } from './sweep.ts';
import { VersionRegistry } from './version-registry.ts';

export type { EntityInspection, Gatekeeper, HandleResult, StalledReport } from './gatekeeper-api.ts';
export type { GatekeeperOptions } from './gatekeeper-options.ts';

export function createGatekeeperWithStore(options: GatekeeperOptions): Gatekeeper {
  return new GatekeeperRuntime(options);
}

/** The effect runners of a gatekeeper made here (the Kafka runtime starts them per owned partition). */
export function effectsEngineOf(gatekeeper: Gatekeeper): EffectsEngine | undefined {
  return gatekeeper instanceof GatekeeperRuntime ? gatekeeper.effectsEngine : undefined;
}

// The fields that are not private are what the parts beside this file are given (`this` as their
// deps): foreign-events.ts, reject-without-entity.ts, operator-verbs.ts and sweep.ts.
class GatekeeperRuntime implements Gatekeeper {
  readonly aggregates: ReadonlyMap<string, Aggregate>;
  readonly store: EntityStore;
  readonly mailboxes = new Mailboxes();
  private readonly residents: ResidentEntities;
  readonly listeners = new Listeners();
  readonly held = new HeldEntities();
  readonly clock: Clock;
  readonly maxConflictRetries: number;
  private readonly sweeper: StallSweeper | undefined;
  readonly registry: VersionRegistry;
  private readonly loader: ResidentLoader;
  readonly loop: DecisionLoop;
  readonly effectsEngine: EffectsEngine | undefined;
  private closed = false;

  constructor(options: GatekeeperOptions) {
    this.aggregates = buildAggregates(options.machines, options.defaults);
    this.store = options.store;
    this.clock = options.clock ?? systemClock;
    this.registry = new VersionRegistry(this.store, this.clock);
    this.loader = new ResidentLoader(this.registry, this.clock, options.inspect);
    const { dedupWindow, maxConflictRetries, maxResidentEntities } = resolveLimits(options);
    this.maxConflictRetries = maxConflictRetries;
    this.residents = new ResidentEntities(maxResidentEntities, (id) => this.mailboxes.isBusy(id));
    this.loop = new DecisionLoop({
      store: this.store,
      clock: this.clock,
      mailboxes: this.mailboxes,
      residents: this.residents,
      held: this.held,
      loader: this.loader,
      listeners: this.listeners,
      dedupWindow,
      maxConflictRetries,
    });
    const interval = sweepInterval(options.sweepIntervalMs, this.aggregates);
    this.sweeper = interval > 0 ? new StallSweeper(interval, () => this.sweep()) : undefined;
    this.effectsEngine = createEffectsEngine({
      effects: options.effects,
      shards: options.effectShards ?? 'all',
      timers: options.effectTimers,
      store: this.store,
      effectStore: options.effectStore ?? this.store.effects,
      aggregates: this.aggregates,
      clock: this.clock,
      listeners: this.listeners,
      onError: options.onEffectError,
    });
  }

  get effects(): GatekeeperEffects | undefined {
    return this.effectsEngine;
  }

  // Not `async`: on the embedded fast path the whole decision is synchronous, and skipping the
  // async frame and its extra awaits is a measurable share of the per-event cost.
  handle(input: unknown, source?: InputSource): Promise<HandleResult> {
    if (this.closed) return Promise.reject(new ClosedError());
    try {
      const result = this.handleNow(input, source);
      return result instanceof Promise ? result : Promise.resolve(result);
    } catch (error) {
      return Promise.reject(asError(error));
    }
  }

  handleBatch(
    inputs: readonly unknown[],
    onResult?: (result: HandleResult, index: number) => void,
  ): Promise<void> {
    if (this.closed) return Promise.reject(new ClosedError());
    const waiting: Promise<void>[] = [];
    let failure: Error | undefined;
    const fail = (error: unknown) => void (failure ??= asError(error));
    const deliver = (result: HandleResult, index: number) => {
      try {
        onResult?.(result, index);
      } catch (error) {
        fail(error);
      }
    };
    for (let index = 0; index < inputs.length; index += 1) {
      try {
        const result = this.handleNow(inputs[index], undefined);
        if (result instanceof Promise) waiting.push(result.then((settled) => deliver(settled, index), fail));
        else deliver(result, index);
      } catch (error) {
        fail(error);
      }
    }
    // Settled only when every input is: a failure does not cut the others' results short.
    const settle = () => (failure ? Promise.reject(failure) : Promise.resolve());
    return waiting.length === 0 ? settle() : Promise.all(waiting).then(settle);
  }

  /** Decides one input: synchronously where the store allows it (throwing on store errors). */
  private handleNow(input: unknown, source: InputSource | undefined): HandleResult | Promise<HandleResult> {
    const parsed = parseEnvelope(input);
    if (!parsed.ok) {
      return rejectWithoutEntity(
        this,
        input,
        'invalid-envelope',
        `invalid event envelope: ${parsed.message}`,
        {
          identity: parsed.partial,
          source,
        },
      );
    }
    const event = parsed.event;
    const aggregate = this.aggregates.get(event.aggregate);
    if (!aggregate) return handleForeignEvent(this, event, source);
    const loop = this.loop;
    return loop.decideFor(
      aggregate,
      event.key,
      (resident, now) => decide(loop.contextFor(resident, now), resident.entity, event, source),
      toHandleResult,
    );
  }

  rejectUnparseable(raw: unknown, detail: string, source?: InputSource): Promise<HandleResult> {
    if (this.closed) return Promise.reject(new ClosedError());
    return rejectWithoutEntity(this, raw, 'invalid-envelope', detail, { identity: {}, source });
  }

  rejectInput(
    raw: unknown,
    reason: 'invalid-envelope' | 'key-mismatch' | 'input-too-large',
    detail: string,
    source?: InputSource,
  ): Promise<HandleResult> {
    if (this.closed) return Promise.reject(new ClosedError());
    const parsed = parseEnvelope(raw);
    return parsed.ok
      ? rejectWithoutEntity(this, raw, reason, detail, {
          identity: parsed.event,
          event: parsed.event,
          source,
        })
      : rejectWithoutEntity(this, raw, reason, detail, { identity: parsed.partial, source });
  }

  async inspect(aggregate: string, key: string): Promise<EntityInspection | undefined> {
    const definition = this.requireAggregate(aggregate);
    return this.mailboxes.run(entityId(aggregate, key), () =>
      inspectEntity(this.store, this.loader, definition, aggregate, key),
    );
  }

  history(aggregate: string, key: string): Promise<HistoryEntry[]> {
    this.requireAggregate(aggregate);
    return this.store.history({ aggregate, key });
  }

  async stalled(limit = 1_000): Promise<StalledReport[]> {
    const now = this.clock.now();
    const smallest = Math.min(...[...this.aggregates.values()].map((a) => a.stallAfterMs));
    const candidates = await this.store.stalled(now - smallest, limit);
    const reports: StalledReport[] = [];
    for (const candidate of candidates) {
      const aggregate = this.aggregates.get(candidate.aggregate);
      if (!aggregate) continue;
      const ageMs = now - candidate.oldestBufferedAt;
      if (ageMs > aggregate.stallAfterMs)
        reports.push({ ...candidate, ageMs, stallAfterMs: aggregate.stallAfterMs });
    }
    return reports;
  }

  parked(limit = 1_000): Promise<EntityRef[]> {
    return this.store.parked(limit);
  }

  async attention(limit = 1_000): Promise<AttentionEntry[]> {
    const [entities, effects] = await Promise.all([
      readAttention(this.store, limit),
      effectAttention(this.store, limit),
    ]);
    return [...entities, ...effects].sort((a, b) => a.since - b.since).slice(0, limit);
  }

  retry(aggregate: string, key: string): Promise<Outcome[]> {
    return retryEntity(this, aggregate, key);
  }

  skip(aggregate: string, key: string): Promise<Outcome[]> {
    return skipEntity(this, aggregate, key);
  }

  migrate(aggregate: string, key: string): Promise<Outcome[]> {
    return migrateEntity(this.loop.reload, this.requireAggregate(aggregate), key);
  }

  async reset(aggregate: string, key: string, options: { resetSeq?: boolean } = {}): Promise<Outcome[]> {
    const definition = this.requireAggregate(aggregate);
    // A reset of an entity the store never saw would create one: refuse it (a typo in the key).
    if (!(await this.store.load({ aggregate, key })))
      throw new OperatorActionError(`${aggregate}/${key} is not in this store, so there is nothing to reset`);
    return resetEntity(this.loop.reload, definition, key, options.resetSeq ?? false);
  }

  sweep(): Promise<Outcome[]> {
    return sweep(this);
  }

  subscribe(listener: GatekeeperListener): () => void {
    return this.listeners.add(listener);
  }

  idle(): Promise<void> {
    return this.mailboxes.idle();
  }

  residentCount(): number {
    return this.residents.size;
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.sweeper?.stop();
    await this.mailboxes.idle();
    await this.effectsEngine?.stop();
    this.residents.clear();
    this.held.clear();
    await this.store.close();
  }

  requireAggregate(name: string): Aggregate {
    const aggregate = this.aggregates.get(name);
    if (!aggregate)
      throw new InvalidConfigError(
        `unknown aggregate "${name}" (known: ${[...this.aggregates.keys()].join(', ')})`,
      );
    return aggregate;
  }
}

function asError(error: unknown): Error {
  return error instanceof Error ? error : new Error(String(error));
}
