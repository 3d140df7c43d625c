/**
 * The gatekeeper: routes each event to its entity's mailbox, hydrates the entity, runs the
 * decision rules against its live actor, commits the decision atomically and tells listeners.
 * This file wires the parts and takes the inputs; the contract is in gatekeeper-api.ts, the
 * decide-and-commit loop in decision-loop.ts.
 */
import { buildAggregates, type Aggregate } from '../core/aggregate.ts';
import type { AttentionEntry } from '../core/attention.ts';
import { systemClock, type Clock } from '../core/clock.ts';
import { decide } from '../core/decide.ts';
import { oldestBufferedAt } from '../core/entity.ts';
import { decideRetry, decideSkip, decideSkipHeld } from '../core/operator-decisions.ts';
import { decideRelease, decideStall } from '../core/sweeper-decisions.ts';
import { parseEnvelope } from '../core/envelope.ts';
import { ClosedError, InvalidConfigError, OperatorActionError } from '../core/errors.ts';
import type { HistoryEntry } from '../core/history.ts';
import type { InputSource, Outcome } from '../core/outcome.ts';
import type { EntityRef, EntityStore } from '../store/entity-store.ts';
import { readAttention } from './attention-list.ts';
import { asDecided, DecisionLoop, toHandleResult } from './decision-loop.ts';
import {
  retryFailedEffect,
  skipFailedEffect,
  type EffectsEngine,
  type GatekeeperEffects,
} from './effects/effects-engine.ts';
import { createEffectsEngine, effectAttention, inspectEffects } from './effects/wire-effects.ts';
import { handleForeignEvent } from './foreign-events.ts';
import type { EntityInspection, Gatekeeper, HandleResult, StalledReport } from './gatekeeper-api.ts';
import { resolveLimits, type GatekeeperOptions } from './gatekeeper-options.ts';
import { HeldEntities } from './held-entities.ts';
import { migrateEntity, releaseEndedHolds, resetEntity } from './lifecycle-verbs.ts';
import { Listeners, type GatekeeperListener } from './listeners.ts';
import { Mailboxes } from './mailbox.ts';
import { rejectWithoutEntity } from './reject-without-entity.ts';
import { entityId, ResidentEntities } from './resident-entities.ts';
import { ResidentLoader } from './resident-loader.ts';
import { StallSweeper } from './stall-sweeper.ts';
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
// deps): foreign-events.ts and reject-without-entity.ts.
class GatekeeperRuntime implements Gatekeeper {
  readonly aggregates: ReadonlyMap<string, Aggregate>;
  readonly store: EntityStore;
  readonly mailboxes = new Mailboxes();
  private readonly residents: ResidentEntities;
  readonly listeners = new Listeners();
  private readonly held = new HeldEntities();
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
    const smallestStall = Math.min(...[...this.aggregates.values()].map((a) => a.stallAfterMs));
    // A hold is released by the next event of its entity, or by the sweeper when none comes: then
    // within half a hold of its end.
    const smallestHold = Math.min(...holdsOf(this.aggregates));
    const interval =
      options.sweepIntervalMs ??
      Math.min(60_000, Math.max(1_000, smallestStall / 4), Math.max(50, smallestHold / 2));
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
    return this.mailboxes.run(entityId(aggregate, key), async () => {
      const stored = await this.store.load({ aggregate, key });
      if (!stored) return undefined;
      const loaded = await this.loader.look(definition, { aggregate, key }, stored);
      const { cursor } = loaded;
      const [history, effects] = await Promise.all([
        this.store.history({ aggregate, key }),
        inspectEffects(this.store, { aggregate, key }),
      ]);
      return {
        aggregate,
        key,
        state: cursor.value(),
        context: cursor.context(),
        status: cursor.done() ? 'done' : 'active',
        lastSeq: stored.lastSeq,
        lastTime: stored.lastTime,
        version: stored.version,
        buffered: [...stored.buffer],
        parked: stored.parked,
        held: loaded.hold ?? (loaded.lifecycle ? undefined : stored.held),
        storedVersion: stored.machineVersion,
        machineVersion: definition.version,
        pending: loaded.lifecycle?.detail,
        recentRejections: history.filter((entry) => entry.outcome === 'rejected').slice(-10),
        effects,
      } satisfies EntityInspection;
    });
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

  async retry(aggregate: string, key: string): Promise<Outcome[]> {
    if (await this.effectFailed(aggregate, key)) {
      await this.effectVerbs().retry(aggregate, key);
      return [];
    }
    if (await this.isHeld(aggregate, key)) return this.migrate(aggregate, key);
    return this.operatorAction(aggregate, key, 'retry', decideRetry);
  }

  async skip(aggregate: string, key: string): Promise<Outcome[]> {
    if (await this.effectFailed(aggregate, key)) {
      await this.effectVerbs().skip(aggregate, key);
      return [];
    }
    if (!(await this.isHeld(aggregate, key))) return this.operatorAction(aggregate, key, 'skip', decideSkip);
    const { outcomes } = await this.loop.decideFor(
      this.requireAggregate(aggregate),
      key,
      (resident, now) =>
        resident.hold ? decideSkipHeld(this.loop.contextFor(resident, now), resident.entity) : undefined,
      asDecided,
      { reload: true },
    );
    return outcomes;
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

  async sweep(): Promise<Outcome[]> {
    const outcomes = await releaseEndedHolds(this.loop.reload, this.aggregates, await this.attention());
    outcomes.push(...(await this.releaseHeld()));
    for (const report of await this.stalled()) {
      const aggregate = this.aggregates.get(report.aggregate) as Aggregate;
      if (aggregate.onStall === 'keep') continue;
      const decided = await this.loop.decideFor(
        aggregate,
        report.key,
        (resident, now) => {
          const oldest = oldestBufferedAt(resident.entity);
          // Another decision may have drained the buffer since the index was read.
          if (oldest === undefined || now - oldest <= aggregate.stallAfterMs) return undefined;
          return decideStall(this.loop.contextFor(resident, now), resident.entity);
        },
        asDecided,
      );
      outcomes.push(...decided.outcomes);
    }
    return outcomes;
  }

  /**
   * Time mode without further traffic: entities whose held events' hold is over get them
   * released. First those this process left holding events (it knows when each is due), then
   * the store's buffer index for the rest (held by another process, or before a restart): an
   * entity whose oldest buffered event waited longer than its aggregate's hold. An entity with
   * nothing due is decided to no effect and not committed.
   */
  private async releaseHeld(): Promise<Outcome[]> {
    const outcomes: Outcome[] = [];
    const holds = holdsOf(this.aggregates);
    if (holds.length === 0) return outcomes;
    const now = this.clock.now();
    const visits = this.held.due(now);
    const visited = new Set(visits.map((visit) => visit.id));
    for (const candidate of await this.store.stalled(now - Math.min(...holds), 1_000)) {
      const id = entityId(candidate.aggregate, candidate.key);
      const holdMs = this.aggregates.get(candidate.aggregate)?.holdMs ?? 0;
      if (
        visited.has(id) ||
        this.held.knows(id) ||
        holdMs === 0 ||
        now - candidate.oldestBufferedAt <= holdMs
      )
        continue;
      visits.push({ id, ref: candidate });
    }
    for (const { id, ref } of visits) {
      const aggregate = this.aggregates.get(ref.aggregate);
      if (!aggregate) continue;
      const decided = await this.loop.decideFor(
        aggregate,
        ref.key,
        (resident, at) => {
          const decision = decideRelease(this.loop.contextFor(resident, at), resident.entity);
          if (decision.outcomes.length > 0) return decision;
          // Nothing committed, so settle() will not say when to look again: say it here (a parked
          // entity, or events that wait on the machine, are not visited again until they change).
          this.held.note(id, resident.ref, resident.entity, at, aggregate.holdMs, true);
          return undefined;
        },
        asDecided,
      );
      outcomes.push(...decided.outcomes);
    }
    return outcomes;
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

  /** One attention model: an entity stopped on a failed effect takes the verbs on its effect. */
  private async effectFailed(aggregate: string, key: string): Promise<boolean> {
    this.requireAggregate(aggregate);
    return (await this.store.effects?.failure({ aggregate, key })) !== undefined;
  }

  /** The engine's verbs, or (an operator tool without a handler) the store's own. */
  private effectVerbs(): Pick<GatekeeperEffects, 'retry' | 'skip'> {
    if (this.effectsEngine) return this.effectsEngine;
    const store = this.store.effects;
    if (!store) throw new OperatorActionError('this store keeps no effects');
    return {
      retry: (aggregate, key) => retryFailedEffect(store, { aggregate, key }),
      skip: (aggregate, key) => skipFailedEffect(store, { aggregate, key }),
    };
  }

  private async isHeld(aggregate: string, key: string): Promise<boolean> {
    return (await this.inspect(aggregate, key))?.held !== undefined;
  }

  private async operatorAction(
    aggregate: string,
    key: string,
    action: 'retry' | 'skip',
    rule: typeof decideRetry,
  ): Promise<Outcome[]> {
    const definition = this.requireAggregate(aggregate);
    let parked = false;
    const { outcomes } = await this.loop.decideFor(
      definition,
      key,
      (resident, now) => {
        parked = resident.entity.parked !== undefined;
        return parked ? rule(this.loop.contextFor(resident, now), resident.entity) : undefined;
      },
      asDecided,
    );
    if (!parked)
      throw new OperatorActionError(`${aggregate}/${key} is not parked, so there is nothing to ${action}`);
    return outcomes;
  }

  private requireAggregate(name: string): Aggregate {
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

/** The aggregates' holds that are on (time mode with holdMs > 0). */
function holdsOf(aggregates: ReadonlyMap<string, Aggregate>): number[] {
  return [...aggregates.values()].flatMap((aggregate) => (aggregate.holdMs > 0 ? [aggregate.holdMs] : []));
}
