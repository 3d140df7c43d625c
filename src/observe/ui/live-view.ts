/**
 * What the web view shows live, kept from the gatekeeper's listener: entities per state, outcome
 * totals, buffered events and rejection reasons per aggregate, the latest rejections. Parked and
 * stalled counts are read from the gatekeeper (i.e. the store) on refresh.
 *
 * Counts per state cover the entities this process has decided since it started: a UI attached to
 * a shared store sees the others' entities through search and the parked/stalled counts only.
 */
import type { Aggregate } from '../../core/aggregate.ts';
import { OUTCOMES, type Outcome, type OutcomeKind, type StateValue } from '../../core/outcome.ts';
import { activeLeafIds } from '../../core/topology.ts';
import type { Gatekeeper } from '../../gatekeeper/gatekeeper.ts';

export interface AggregateStats {
  /** Leaf state id → entities in it. */
  states: Record<string, number>;
  entities: number;
  buffered: number;
  parked: number;
  stalled: number;
  /** Rejection reason → count. */
  rejections: Record<string, number>;
  outcomes: Record<OutcomeKind, number>;
}

export interface RecentRejection {
  aggregate: string | null;
  key: string | null;
  seq: number | null;
  type: string | null;
  reason: string;
  detail: string | undefined;
}

/** An entity that needs an operator's eye (parked) or is waiting too long (stalled). */
export interface AttentionEntry {
  aggregate: string;
  key: string;
  /** For stalled entities: how long the oldest buffered event has waited. */
  ageMs?: number;
  /** For entities waiting for an operator: parked-on-rejection, or why it is held. */
  reason?: string;
}

export interface LiveStats {
  /** Decisions seen (outcomes, including drained ones). */
  decisions: number;
  outcomes: Record<OutcomeKind, number>;
  aggregates: Record<string, AggregateStats>;
  /** Decisions about entities left out of the per-state counts because `maxTracked` was reached (memory stays bounded). */
  untracked: number;
  /** Rejections that belong to no aggregate (invalid envelopes, unknown aggregates), by reason. */
  unrouted: Record<string, number>;
  recentRejections: RecentRejection[];
  /** The first parked and stalled entities the store lists (at most 20 of each). */
  attention: { parked: AttentionEntry[]; stalled: AttentionEntry[] };
  /** Increases with every change; the page uses it to skip stale updates. */
  revision: number;
}

const RECENT = 20;
const ATTENTION = 20;

export class LiveView {
  private readonly entityStates = new Map<string, readonly string[]>();
  private readonly leafCache = new Map<string, readonly string[]>();
  private readonly stats: LiveStats;
  private readonly unsubscribe: () => void;
  private readonly changeListeners = new Set<() => void>();

  constructor(
    private readonly gatekeeper: Gatekeeper,
    private readonly scanLimit = 10_000,
    /** Entities whose state is remembered for the per-state counts; later newcomers only count as `untracked`. */
    private readonly maxTracked = 1_000_000,
  ) {
    const aggregates: Record<string, AggregateStats> = {};
    for (const [name, aggregate] of gatekeeper.aggregates) aggregates[name] = emptyAggregate(aggregate);
    this.stats = {
      decisions: 0,
      outcomes: zeroOutcomes(),
      aggregates,
      untracked: 0,
      unrouted: {},
      recentRejections: [],
      attention: { parked: [], stalled: [] },
      revision: 0,
    };
    this.unsubscribe = gatekeeper.subscribe({ onOutcome: (outcome) => this.record(outcome) });
  }

  /** Called (synchronously) after every change; returns an unsubscribe function. */
  onChange(listener: () => void): () => void {
    this.changeListeners.add(listener);
    return () => this.changeListeners.delete(listener);
  }

  snapshot(): LiveStats {
    return structuredClone(this.stats);
  }

  /**
   * Re-reads the entities waiting for an operator (parked or held: one attention list) and the
   * stalled ones (at most `scanLimit` of each) from the gatekeeper.
   */
  async refreshFromStore(): Promise<void> {
    const [parked, stalled] = await Promise.all([
      this.gatekeeper.attention(this.scanLimit),
      this.gatekeeper.stalled(this.scanLimit),
    ]);
    let changed = false;
    for (const [name, aggregate] of Object.entries(this.stats.aggregates)) {
      const parkedCount = parked.filter((ref) => ref.aggregate === name).length;
      const stalledCount = stalled.filter((ref) => ref.aggregate === name).length;
      if (aggregate.parked !== parkedCount || aggregate.stalled !== stalledCount) changed = true;
      aggregate.parked = parkedCount;
      aggregate.stalled = stalledCount;
    }
    const parkedList = parked
      .slice(0, ATTENTION)
      .map(({ aggregate, key, reason }) => ({ aggregate, key, reason }));
    const stalledList = stalled
      .slice(0, ATTENTION)
      .map(({ aggregate, key, ageMs }) => ({ aggregate, key, ageMs }));
    if (JSON.stringify(parkedList) !== JSON.stringify(this.stats.attention.parked)) changed = true;
    if (stalledList.length > 0 || this.stats.attention.stalled.length > 0) changed = true;
    this.stats.attention = { parked: parkedList, stalled: stalledList };
    if (changed) this.changed();
  }

  /** Keys of entities this process last saw in leaf state `stateId` (at most `limit`), and how many there are. */
  entitiesIn(aggregate: string, stateId: string, limit = 50): { total: number; keys: string[] } {
    const prefix = `${aggregate}\u0000`;
    const keys: string[] = [];
    let total = 0;
    for (const [id, leaves] of this.entityStates) {
      if (!id.startsWith(prefix) || !leaves.includes(stateId)) continue;
      total += 1;
      if (keys.length < limit) keys.push(id.slice(prefix.length));
    }
    return { total, keys };
  }

  close(): void {
    this.unsubscribe();
    this.changeListeners.clear();
  }

  private record(outcome: Outcome): void {
    this.stats.decisions += 1;
    this.stats.outcomes[outcome.outcome] += 1;
    const aggregate =
      outcome.aggregate === null ? undefined : this.gatekeeper.aggregates.get(outcome.aggregate);
    const stats = aggregate ? this.stats.aggregates[aggregate.name] : undefined;
    if (outcome.outcome === 'rejected') {
      if (stats) stats.rejections[outcome.reason] = (stats.rejections[outcome.reason] ?? 0) + 1;
      else this.stats.unrouted[outcome.reason] = (this.stats.unrouted[outcome.reason] ?? 0) + 1;
      this.stats.recentRejections.unshift({
        aggregate: outcome.aggregate,
        key: outcome.key,
        seq: outcome.seq,
        type: outcome.type,
        reason: outcome.reason,
        detail: outcome.detail,
      });
      this.stats.recentRejections.length = Math.min(this.stats.recentRejections.length, RECENT);
    }
    if (aggregate && stats && outcome.key !== null) {
      stats.outcomes[outcome.outcome] += 1;
      if (outcome.outcome === 'buffered' && !outcome.fromBuffer) stats.buffered += 1;
      else if (outcome.outcome !== 'buffered' && outcome.fromBuffer)
        stats.buffered = Math.max(0, stats.buffered - 1);
      if (outcome.state !== null) this.move(aggregate, stats, outcome.key, outcome.state);
    }
    this.changed();
  }

  private move(aggregate: Aggregate, stats: AggregateStats, key: string, state: StateValue): void {
    const id = `${aggregate.name}\u0000${key}`;
    const before = this.entityStates.get(id);
    if (before === undefined && this.entityStates.size >= this.maxTracked) {
      this.stats.untracked += 1;
      return;
    }
    const after = this.leaves(aggregate, state);
    if (before === undefined) stats.entities += 1;
    else for (const leaf of before) stats.states[leaf] = (stats.states[leaf] ?? 1) - 1;
    for (const leaf of after) stats.states[leaf] = (stats.states[leaf] ?? 0) + 1;
    this.entityStates.set(id, after);
  }

  private leaves(aggregate: Aggregate, state: StateValue): readonly string[] {
    const cacheKey = `${aggregate.name}\u0000${typeof state === 'string' ? state : JSON.stringify(state)}`;
    let leaves = this.leafCache.get(cacheKey);
    if (!leaves) {
      leaves = activeLeafIds(aggregate.machine, state);
      this.leafCache.set(cacheKey, leaves);
    }
    return leaves;
  }

  private changed(): void {
    this.stats.revision += 1;
    for (const listener of this.changeListeners) listener();
  }
}

function zeroOutcomes(): Record<OutcomeKind, number> {
  return Object.fromEntries(OUTCOMES.map((outcome) => [outcome, 0])) as Record<OutcomeKind, number>;
}

function emptyAggregate(aggregate: Aggregate): AggregateStats {
  const states: Record<string, number> = {};
  for (const leaf of aggregate.topology.leaves.keys()) states[leaf] = 0;
  return {
    states,
    entities: 0,
    buffered: 0,
    parked: 0,
    stalled: 0,
    rejections: {},
    outcomes: zeroOutcomes(),
  };
}
