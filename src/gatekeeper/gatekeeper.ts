/**
 * The gatekeeper: routes each event to its entity's mailbox, hydrates the entity, runs the
 * decision rules against its live actor, commits the decision atomically and tells listeners.
 */
import { buildAggregates, type Aggregate } from '../core/aggregate.ts';
import type { AttentionEntry } from '../core/attention.ts';
import { systemClock, type Clock } from '../core/clock.ts';
import { decide } from '../core/decide.ts';
import type { Decision } from '../core/decision.ts';
import { decideRetry, decideSkip, decideSkipHeld } from '../core/operator-decisions.ts';
import { decideRelease, decideStall } from '../core/sweeper-decisions.ts';
import { oldestBufferedAt } from '../core/entity.ts';
import { parseEnvelope, type EventEnvelope } from '../core/envelope.ts';
import {
  ClosedError,
  InvalidConfigError,
  OperatorActionError,
  VersionConflictError,
} from '../core/errors.ts';
import { toHistoryEntry, type HistoryEntry } from '../core/history.ts';
import type { DeadLetter, InputSource, Outcome } from '../core/outcome.ts';
import type { CommitResult, EntityRef, EntityStore, SyncEntityStore } from '../store/entity-store.ts';
import { readAttention } from './attention-list.ts';
import { holdForeignEvent, knownElsewhere } from './foreign-events.ts';
import { lifecycleDecision } from './hydrate.ts';
import {
  migrateEntity,
  releaseEndedHolds,
  resetEntity,
  type Reload,
  type Reloaded,
} from './lifecycle-verbs.ts';
import type { EntityInspection, Gatekeeper, HandleResult, StalledReport } from './gatekeeper-api.ts';
import { resolveLimits, type GatekeeperOptions } from './gatekeeper-options.ts';
import { ResidentLoader } from './resident-loader.ts';
import { VersionRegistry } from './version-registry.ts';
import { HeldEntities } from './held-entities.ts';
import { Listeners, type GatekeeperListener } from './listeners.ts';
import { Mailboxes } from './mailbox.ts';
import { ResidentEntities, type Resident } from './resident-entities.ts';
import { StallSweeper } from './stall-sweeper.ts';
import {
  retryFailedEffect,
  skipFailedEffect,
  type EffectsEngine,
  type GatekeeperEffects,
} from './effects/effects-engine.ts';
import { createEffectsEngine, effectAttention, inspectEffects } from './effects/wire-effects.ts';

export type { EntityInspection, Gatekeeper, HandleResult, StalledReport } from './gatekeeper-api.ts';
export type { GatekeeperOptions } from './gatekeeper-options.ts';

export function createGatekeeperWithStore(options: GatekeeperOptions): Gatekeeper {
  return new GatekeeperRuntime(options);
}

/** The effect runners of a gatekeeper made here (the Kafka runtime starts them per owned partition). */
export function effectsEngineOf(gatekeeper: Gatekeeper): EffectsEngine | undefined {
  return gatekeeper instanceof GatekeeperRuntime ? gatekeeper.effectsEngine : undefined;
}

class GatekeeperRuntime implements Gatekeeper {
  readonly aggregates: ReadonlyMap<string, Aggregate>;
  readonly store: EntityStore;
  private readonly mailboxes = new Mailboxes();
  private readonly residents: ResidentEntities;
  readonly listeners = new Listeners();
  private readonly held = new HeldEntities();
  readonly clock: Clock;
  private readonly dedupWindow: number;
  readonly maxConflictRetries: number;
  private readonly sweeper: StallSweeper | undefined;
  readonly registry: VersionRegistry;
  private readonly loader: ResidentLoader;
  readonly effectsEngine: EffectsEngine | undefined;
  private closed = false;

  constructor(private readonly options: GatekeeperOptions) {
    this.aggregates = buildAggregates(options.machines, options.defaults);
    this.store = options.store;
    this.clock = options.clock ?? systemClock;
    this.registry = new VersionRegistry(this.store, this.clock);
    this.loader = new ResidentLoader(this.registry, this.clock, options.inspect);
    const { dedupWindow, maxConflictRetries, maxResidentEntities } = resolveLimits(options);
    this.dedupWindow = dedupWindow;
    this.maxConflictRetries = maxConflictRetries;
    this.residents = new ResidentEntities(maxResidentEntities, (id) => this.mailboxes.isBusy(id));
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
      return this.rejectWithoutEntity(
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
    if (!aggregate) return this.handleForeign(event, source);
    return this.decideFor(
      aggregate,
      event.key,
      (resident, now) => decide(this.contextFor(resident, now), resident.entity, event, source),
      toHandleResult,
    );
  }

  rejectUnparseable(raw: unknown, detail: string, source?: InputSource): Promise<HandleResult> {
    if (this.closed) return Promise.reject(new ClosedError());
    return this.rejectWithoutEntity(raw, 'invalid-envelope', detail, { identity: {}, source });
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
      ? this.rejectWithoutEntity(raw, reason, detail, { identity: parsed.event, event: parsed.event, source })
      : this.rejectWithoutEntity(raw, reason, detail, { identity: parsed.partial, source });
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
    const { outcomes } = await this.decideFor(
      this.requireAggregate(aggregate),
      key,
      (resident, now) =>
        resident.hold ? decideSkipHeld(this.contextFor(resident, now), resident.entity) : undefined,
      asDecided,
      { reload: true },
    );
    return outcomes;
  }

  migrate(aggregate: string, key: string): Promise<Outcome[]> {
    return migrateEntity(this.reload, this.requireAggregate(aggregate), key);
  }

  async reset(aggregate: string, key: string, options: { resetSeq?: boolean } = {}): Promise<Outcome[]> {
    const definition = this.requireAggregate(aggregate);
    // A reset of an entity the store never saw would create one: refuse it (a typo in the key).
    if (!(await this.store.load({ aggregate, key })))
      throw new OperatorActionError(`${aggregate}/${key} is not in this store, so there is nothing to reset`);
    return resetEntity(this.reload, definition, key, options.resetSeq ?? false);
  }

  async sweep(): Promise<Outcome[]> {
    const outcomes = await releaseEndedHolds(this.reload, this.aggregates, await this.attention());
    outcomes.push(...(await this.releaseHeld()));
    for (const report of await this.stalled()) {
      const aggregate = this.aggregates.get(report.aggregate) as Aggregate;
      if (aggregate.onStall === 'keep') continue;
      const decided = await this.decideFor(
        aggregate,
        report.key,
        (resident, now) => {
          const oldest = oldestBufferedAt(resident.entity);
          // Another decision may have drained the buffer since the index was read.
          if (oldest === undefined || now - oldest <= aggregate.stallAfterMs) return undefined;
          return decideStall(this.contextFor(resident, now), resident.entity);
        },
        asDecided,
      );
      outcomes.push(...decided.outcomes);
    }
    return outcomes;
  }

  /** Loads the entity as stored now and commits its lifecycle step first (see lifecycle-verbs.ts). */
  private readonly reload: Reload = async (aggregate, key, reset) => {
    const reloaded: Reloaded = { changed: false, outcomes: [], hold: undefined };
    await this.decideFor(
      aggregate,
      key,
      (resident) => {
        reloaded.hold = resident.hold;
        return undefined;
      },
      asDecided,
      {
        reload: true,
        reset,
        onLifecycle: (outcomes) => {
          reloaded.changed = true;
          reloaded.outcomes.push(...outcomes);
        },
      },
    );
    return reloaded;
  };

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
      const decided = await this.decideFor(
        aggregate,
        ref.key,
        (resident, at) => {
          const decision = decideRelease(this.contextFor(resident, at), resident.entity);
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

  // --- internals -------------------------------------------------------------------------------

  private contextFor(resident: Resident, now: number) {
    return {
      aggregate: resident.aggregate,
      cursor: resident.cursor,
      now,
      dedupWindow: this.dedupWindow,
      hold: resident.hold,
    };
  }

  /**
   * Runs one decision for one entity inside its mailbox and commits it; on a version conflict the
   * entity is reloaded from the store and the decision is made again. Answers synchronously (and
   * throws) on the embedded store's fast path.
   */
  private decideFor<TResult>(
    aggregate: Aggregate,
    key: string,
    makeDecision: (resident: Resident, now: number) => Decision | undefined,
    toResult: (decided: Decided) => TResult,
    operator?: OperatorOptions,
  ): TResult | Promise<TResult> {
    const id = entityId(aggregate.name, key);
    const sync = this.store.sync;
    // Fast path for stores that answer synchronously (the embedded one): with nothing queued for
    // this key, deciding right now keeps arrival order and skips the mailbox's promise chain.
    if (sync && !operator && !this.mailboxes.isBusy(id)) {
      return toResult(this.decideSync(sync, id, aggregate, key, makeDecision));
    }
    return this.mailboxes.run(id, async () => {
      // Operator actions look at the entity as stored now (a migration may have been deployed).
      if (operator?.reload) this.residents.evict(id);
      for (let attempt = 0; attempt <= this.maxConflictRetries; attempt += 1) {
        const resident =
          this.residents.get(id) ?? (await this.admitAsync(id, aggregate, key, operator?.reset));
        const now = this.clock.now();
        if (resident.lifecycle) {
          const step = this.lifecycleCommit(resident, now);
          let committed: CommitResult;
          try {
            committed = await this.store.commit(resident.ref, step.commit);
          } catch (error) {
            this.residents.evict(id);
            throw error;
          }
          if (!this.settle(id, resident, step.decision, committed)) continue;
          resident.lifecycle = undefined;
          operator?.onLifecycle?.(step.decision.outcomes);
        }
        const decision = makeDecision(resident, now);
        if (!decision) return toResult(NO_DECISION);
        let committed: CommitResult;
        try {
          committed = await this.store.commit(resident.ref, this.toCommit(resident, decision, now));
        } catch (error) {
          // The cursor already moved; only the store knows what really happened.
          this.residents.evict(id);
          throw error;
        }
        if (this.settle(id, resident, decision, committed)) return toResult(decision);
      }
      throw new VersionConflictError(aggregate.name, key, -1);
    });
  }

  private decideSync(
    sync: SyncEntityStore,
    id: string,
    aggregate: Aggregate,
    key: string,
    makeDecision: (resident: Resident, now: number) => Decision | undefined,
  ): Decided {
    for (let attempt = 0; attempt <= this.maxConflictRetries; attempt += 1) {
      const resident = this.residents.get(id) ?? this.admitSync(sync, id, aggregate, key);
      // A resident admitted on the asynchronous path has no record yet.
      const record = (resident.record ??= sync.open(resident.ref));
      const now = this.clock.now();
      if (resident.lifecycle) {
        const step = this.lifecycleCommit(resident, now);
        if (!this.settle(id, resident, step.decision, record.commit(step.commit))) continue;
        resident.lifecycle = undefined;
      }
      const decision = makeDecision(resident, now);
      if (!decision) return NO_DECISION;
      let committed: CommitResult;
      try {
        committed = record.commit(this.toCommit(resident, decision, now));
      } catch (error) {
        // Refused (e.g. DeadLettersFullError): the cursor already moved, the record did not.
        this.residents.evict(id);
        throw error;
      }
      if (this.settle(id, resident, decision, committed)) return decision;
    }
    throw new VersionConflictError(aggregate.name, key, -1);
  }

  /** After a commit: adopt the decision, or on a version conflict evict so the next try reloads. */
  private settle(id: string, resident: Resident, decision: Decision, committed: CommitResult): boolean {
    if (!committed.ok) {
      this.residents.evict(id);
      return false;
    }
    resident.entity = decision.entity;
    resident.version = committed.version;
    if (resident.machineVersion !== '') resident.stamped = resident.machineVersion;
    const { holdMs } = resident.aggregate;
    if (holdMs > 0) this.held.note(id, resident.ref, decision.entity, this.clock.now(), holdMs);
    const held = decision.heldChanged ? decision.entity.held : undefined;
    this.listeners.emit(
      decision.outcomes,
      decision.applied,
      decision.deadLetters,
      held && { ...resident.ref, reason: held.reason, detail: held.detail, since: held.since },
    );
    return true;
  }

  private toCommit(resident: Resident, decision: Decision, now: number, history?: HistoryEntry[]) {
    // History names the deciding version only where it differs from the entity's stamp (a held
    // entity's events, a first commit): nothing extra per decision in the steady state.
    const decidedBy =
      resident.aggregate.version === resident.stamped ? undefined : resident.aggregate.version;
    return {
      expectedVersion: resident.version,
      entity: decision.entity,
      snapshot: decision.moved ? resident.cursor.persistLater() : undefined,
      bufferAdded: decision.bufferAdded,
      bufferRemoved: decision.bufferRemoved,
      seenAdded: decision.seenAdded,
      parkedChanged: decision.parkedChanged,
      heldChanged: decision.heldChanged,
      // Sent only when the stamp changes, so the commit script does not rewrite it every time.
      machineVersion: resident.machineVersion === resident.stamped ? '' : resident.machineVersion,
      committedAt: now,
      applied: decision.applied,
      deadLetters: decision.deadLetters,
      history: history ?? decision.outcomes.map((outcome) => toHistoryEntry(outcome, now, decidedBy)),
      oldestBufferedAt: oldestBufferedAt(decision.entity),
      final: resident.cursor.done(),
    };
  }

  /** The resident's pending migration, restamp or release as a commit of its own. */
  private lifecycleCommit(resident: Resident, now: number) {
    const step = resident.lifecycle as NonNullable<Resident['lifecycle']>;
    const { decision, history } = lifecycleDecision(
      this.contextFor(resident, now),
      resident.entity,
      step,
      resident.cursor.value(),
      now,
    );
    return { decision, commit: this.toCommit(resident, decision, now, history) };
  }

  private admitSync(sync: SyncEntityStore, id: string, aggregate: Aggregate, key: string): Resident {
    const record = sync.open({ aggregate: aggregate.name, key });
    const stored = record.load();
    this.loader.prepareNow(aggregate, stored);
    return this.admit(id, this.loader.resident(aggregate, key, stored, record));
  }

  private async admitAsync(
    id: string,
    aggregate: Aggregate,
    key: string,
    reset: OperatorOptions['reset'],
  ): Promise<Resident> {
    const stored = await this.store.load({ aggregate: aggregate.name, key });
    await this.loader.prepare(aggregate, stored);
    return this.admit(id, this.loader.resident(aggregate, key, stored, undefined, reset));
  }

  private admit(id: string, resident: Resident): Resident {
    this.residents.set(id, resident);
    return resident;
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

  /** An event of an aggregate with no machine here: held for another member, or unknown-aggregate. */
  private handleForeign(event: EventEnvelope, source: InputSource | undefined): Promise<HandleResult> {
    return this.mailboxes.run(entityId(event.aggregate, event.key), async () => {
      if (await knownElsewhere(this.registry, event.aggregate))
        return toHandleResult(await holdForeignEvent(this, event, source));
      const known = [...this.aggregates.keys()].join(', ');
      return this.rejectWithoutEntity(
        event,
        'unknown-aggregate',
        `no machine is registered for aggregate "${event.aggregate}" (known: ${known})`,
        { identity: event, event, source },
      );
    });
  }

  private async operatorAction(
    aggregate: string,
    key: string,
    action: 'retry' | 'skip',
    rule: typeof decideRetry,
  ): Promise<Outcome[]> {
    const definition = this.requireAggregate(aggregate);
    let parked = false;
    const { outcomes } = await this.decideFor(
      definition,
      key,
      (resident, now) => {
        parked = resident.entity.parked !== undefined;
        return parked ? rule(this.contextFor(resident, now), resident.entity) : undefined;
      },
      asDecided,
    );
    if (!parked)
      throw new OperatorActionError(`${aggregate}/${key} is not parked, so there is nothing to ${action}`);
    return outcomes;
  }

  private async rejectWithoutEntity(
    raw: unknown,
    reason: 'invalid-envelope' | 'unknown-aggregate' | 'key-mismatch' | 'input-too-large',
    detail: string,
    about: {
      identity: { id?: string; aggregate?: string; key?: string; seq?: number; type?: string };
      event?: EventEnvelope;
      source: InputSource | undefined;
    },
  ): Promise<HandleResult> {
    const { identity, event, source } = about;
    const outcome: Outcome = {
      outcome: 'rejected',
      reason,
      detail,
      id: identity.id ?? null,
      aggregate: identity.aggregate ?? null,
      key: identity.key ?? null,
      seq: identity.seq ?? null,
      type: identity.type ?? null,
      state: null,
      fromBuffer: false,
      ...(event ? { event } : {}),
    };
    const letter: DeadLetter = {
      reason,
      detail,
      at: this.clock.now(),
      event,
      ...(event ? {} : { raw }),
      aggregate: outcome.aggregate,
      key: outcome.key,
      ...(source ? { source } : {}),
    };
    await this.store.recordDeadLetter(letter);
    this.listeners.emit([outcome], [], [letter]);
    return { outcome, outcomes: [outcome], transitions: [] };
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

/** How an operator action runs its decision: on the entity as stored now, reset, or both. */
interface OperatorOptions {
  /** Evict the resident first, so the entity is loaded (and hydrated) again. */
  reload?: boolean;
  /** Start the entity from its machine's initial state (see `reset`). */
  reset?: { resetSeq: boolean } | undefined;
  /** Receives the outcomes of the migration, restamp, release or reset committed first. */
  onLifecycle?: (outcomes: Outcome[]) => void;
}

/** What callers of a decision read back. */
type Decided = Pick<Decision, 'outcomes' | 'applied'>;

const NO_DECISION: Decided = { outcomes: [], applied: [] };

function asDecided(decided: Decided): Decided {
  return decided;
}

function toHandleResult({ outcomes, applied }: Decided): HandleResult {
  return { outcome: outcomes[0] as Outcome, outcomes, transitions: applied };
}

function asError(error: unknown): Error {
  return error instanceof Error ? error : new Error(String(error));
}

function entityId(aggregate: string, key: string): string {
  return `${aggregate}\u0000${key}`;
}

/** The aggregates' holds that are on (time mode with holdMs > 0). */
function holdsOf(aggregates: ReadonlyMap<string, Aggregate>): number[] {
  return [...aggregates.values()].flatMap((aggregate) => (aggregate.holdMs > 0 ? [aggregate.holdMs] : []));
}
