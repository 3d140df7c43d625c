/**
 * The decide-and-commit loop: runs one decision for one entity inside its mailbox against its
 * resident (loaded and hydrated on first use), commits it atomically, adopts it and tells the
 * listeners; on a version conflict the entity is reloaded and the decision made again.
 */
import type { Aggregate } from '../core/aggregate.ts';
import type { Clock } from '../core/clock.ts';
import type { Decision, DecisionContext } from '../core/decision.ts';
import { oldestBufferedAt } from '../core/entity.ts';
import { VersionConflictError } from '../core/errors.ts';
import { toHistoryEntry, type HistoryEntry } from '../core/history.ts';
import type { Outcome } from '../core/outcome.ts';
import type { CommitResult, EntityStore, SyncEntityStore } from '../store/entity-store.ts';
import type { HandleResult } from './gatekeeper-api.ts';
import type { HeldEntities } from './held-entities.ts';
import { lifecycleDecision } from './hydrate.ts';
import type { Reload, Reloaded } from './lifecycle-verbs.ts';
import type { Listeners } from './listeners.ts';
import type { Mailboxes } from './mailbox.ts';
import { entityId, type Resident, type ResidentEntities } from './resident-entities.ts';
import type { ResidentLoader } from './resident-loader.ts';

/** How an operator action runs its decision: on the entity as stored now, reset, or both. */
export interface OperatorOptions {
  /** Evict the resident first, so the entity is loaded (and hydrated) again. */
  reload?: boolean;
  /** Start the entity from its machine's initial state (see `reset`). */
  reset?: { resetSeq: boolean } | undefined;
  /** Receives the outcomes of the migration, restamp, release or reset committed first. */
  onLifecycle?: (outcomes: Outcome[]) => void;
}

/** What callers of a decision read back. */
export type Decided = Pick<Decision, 'outcomes' | 'applied'>;

const NO_DECISION: Decided = { outcomes: [], applied: [] };

export function asDecided(decided: Decided): Decided {
  return decided;
}

export function toHandleResult({ outcomes, applied }: Decided): HandleResult {
  return { outcome: outcomes[0] as Outcome, outcomes, transitions: applied };
}

export interface DecisionLoopParts {
  store: EntityStore;
  clock: Clock;
  mailboxes: Mailboxes;
  residents: ResidentEntities;
  held: HeldEntities;
  loader: ResidentLoader;
  listeners: Listeners;
  dedupWindow: number;
  maxConflictRetries: number;
}

export class DecisionLoop {
  private readonly store: EntityStore;
  private readonly clock: Clock;
  private readonly mailboxes: Mailboxes;
  private readonly residents: ResidentEntities;
  private readonly held: HeldEntities;
  private readonly loader: ResidentLoader;
  private readonly listeners: Listeners;
  private readonly dedupWindow: number;
  private readonly maxConflictRetries: number;

  constructor(parts: DecisionLoopParts) {
    this.store = parts.store;
    this.clock = parts.clock;
    this.mailboxes = parts.mailboxes;
    this.residents = parts.residents;
    this.held = parts.held;
    this.loader = parts.loader;
    this.listeners = parts.listeners;
    this.dedupWindow = parts.dedupWindow;
    this.maxConflictRetries = parts.maxConflictRetries;
  }

  contextFor(resident: Resident, now: number): DecisionContext {
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
  decideFor<TResult>(
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

  /** Loads the entity as stored now and commits its lifecycle step first (see lifecycle-verbs.ts). */
  readonly reload: Reload = async (aggregate, key, reset) => {
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
    const ref = { aggregate: aggregate.name, key };
    const record = sync.open(ref);
    const stored = record.load();
    this.loader.prepareNow(aggregate, stored);
    return this.admit(id, this.loader.resident(aggregate, ref, stored, record));
  }

  private async admitAsync(
    id: string,
    aggregate: Aggregate,
    key: string,
    reset: OperatorOptions['reset'],
  ): Promise<Resident> {
    // The resident keeps this very ref: a store that derives key names per ref does so once.
    const ref = { aggregate: aggregate.name, key };
    const stored = await this.store.load(ref);
    await this.loader.prepare(aggregate, stored);
    return this.admit(id, this.loader.resident(aggregate, ref, stored, undefined, reset));
  }

  private admit(id: string, resident: Resident): Resident {
    this.residents.set(id, resident);
    return resident;
  }
}
