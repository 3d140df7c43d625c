/**
 * The effects queue of the embedded store (see effect-queue.ts): the same semantics in process
 * memory, durable only for the life of the process. One shard.
 */
import type { AppliedTransition } from '../core/outcome.ts';
import { transitionIdentity } from '../core/transition-identity.ts';
import type {
  BlockedEntities,
  EffectFailureNote,
  EffectRow,
  EffectShard,
  EffectStore,
  StoredEffectFailure,
} from './effect-queue.ts';
import type { EntityRef } from './entity-store.ts';

interface Queued {
  transition: AppliedTransition;
  identity: string;
}

interface Failed extends Queued, EffectFailureNote {}

/** Skipped effects kept for operators (the newest). */
const SKIPPED_KEPT = 1_000;

export class MemoryEffects implements EffectStore, EffectShard {
  readonly shard = 0;
  private readonly queue = new Map<number, Queued>();
  private nextId = 1;
  private readonly holding = new Map<string, Queued[]>();
  private readonly failed = new Map<string, Failed>();
  private readonly attempts = new Map<string, number>();
  readonly skipped: Failed[] = [];

  constructor(readonly enabled: boolean) {}

  /**
   * Appends a commit's applied transitions (called by the commit itself, so it is atomic with it).
   * The identity is worked out when the runner reads the row, off the deciding path.
   */
  append(applied: readonly AppliedTransition[]): void {
    for (const transition of applied) this.queue.set(this.nextId++, { transition, identity: '' });
  }

  shards(): number[] {
    return [0];
  }

  shardQueue(): EffectShard {
    return this;
  }

  shardOf(): number {
    return 0;
  }

  read(after: string | undefined, limit: number): Promise<EffectRow[]> {
    const from = after === undefined ? 0 : Number(after);
    const rows: EffectRow[] = [];
    // Map iteration is insertion order: ids ascend.
    for (const [id, queued] of this.queue) {
      if (rows.length >= limit) break;
      if (id <= from) continue;
      if (queued.identity === '') queued.identity = transitionIdentity(queued.transition);
      rows.push(this.row(String(id), queued));
    }
    return Promise.resolve(rows);
  }

  ack(rows: readonly EffectRow[]): Promise<void> {
    for (const row of rows) {
      this.queue.delete(Number(row.id));
      this.attempts.delete(row.identity);
    }
    return Promise.resolve();
  }

  hold(ref: EntityRef, rows: readonly EffectRow[]): Promise<void> {
    const list = this.holdingOf(ref, true);
    for (const row of rows) {
      const queued = this.queue.get(Number(row.id));
      if (!queued) continue;
      this.queue.delete(Number(row.id));
      list.push(queued);
    }
    return Promise.resolve();
  }

  firstHeld(ref: EntityRef): Promise<EffectRow | undefined> {
    const first = this.holdingOf(ref)?.[0];
    return Promise.resolve(first && this.row(`held:${first.identity}`, first));
  }

  releaseFirst(ref: EntityRef, row: EffectRow): Promise<number> {
    const list = this.holdingOf(ref);
    if (list?.[0]?.identity === row.identity) list.shift();
    this.attempts.delete(row.identity);
    if (list?.length === 0) this.holding.delete(memberOf(ref));
    return Promise.resolve(list?.length ?? 0);
  }

  countFailure(row: EffectRow): Promise<number> {
    const count = (this.attempts.get(row.identity) ?? 0) + 1;
    this.attempts.set(row.identity, count);
    return Promise.resolve(count);
  }

  fail(ref: EntityRef, row: EffectRow, from: 'queue' | 'held', note: EffectFailureNote): Promise<void> {
    let taken: Queued | undefined;
    if (from === 'queue') {
      taken = this.queue.get(Number(row.id));
      this.queue.delete(Number(row.id));
    } else {
      const list = this.holdingOf(ref);
      if (list?.[0]?.identity === row.identity) taken = list.shift();
      if (list?.length === 0) this.holding.delete(memberOf(ref));
    }
    this.attempts.delete(row.identity);
    if (taken) this.failed.set(memberOf(ref), { ...taken, ...note });
    return Promise.resolve();
  }

  blocked(): Promise<BlockedEntities> {
    const failed = [...this.failed.keys()].map(refOf);
    const holding = [...this.holding.keys()].filter((member) => !this.failed.has(member)).map(refOf);
    return Promise.resolve({ failed, holding });
  }

  backlog(): Promise<number> {
    return Promise.resolve(this.queue.size);
  }

  failures(limit: number): Promise<StoredEffectFailure[]> {
    const all = [...this.failed.entries()]
      .map(([member, failed]) => this.failureOf(refOf(member), failed))
      .sort((a, b) => a.failedAt - b.failedAt);
    return Promise.resolve(all.slice(0, limit));
  }

  failure(ref: EntityRef): Promise<StoredEffectFailure | undefined> {
    const failed = this.failed.get(memberOf(ref));
    return Promise.resolve(failed && this.failureOf(ref, failed));
  }

  heldCount(ref: EntityRef): Promise<number> {
    return Promise.resolve(this.holdingOf(ref)?.length ?? 0);
  }

  retry(ref: EntityRef): Promise<boolean> {
    const member = memberOf(ref);
    const failed = this.failed.get(member);
    if (!failed) return Promise.resolve(false);
    this.failed.delete(member);
    this.holdingOf(ref, true).unshift({ transition: failed.transition, identity: failed.identity });
    this.attempts.set(failed.identity, failed.attempts);
    return Promise.resolve(true);
  }

  skip(ref: EntityRef): Promise<StoredEffectFailure | undefined> {
    const member = memberOf(ref);
    const failed = this.failed.get(member);
    if (!failed) return Promise.resolve(undefined);
    this.failed.delete(member);
    this.skipped.push(failed);
    if (this.skipped.length > SKIPPED_KEPT) this.skipped.shift();
    return Promise.resolve(this.failureOf(ref, failed));
  }

  private failureOf(ref: EntityRef, failed: Failed): StoredEffectFailure {
    return {
      aggregate: ref.aggregate,
      key: ref.key,
      idempotencyKey: failed.identity,
      transition: failed.transition,
      error: failed.error,
      attempts: failed.attempts,
      failedAt: failed.failedAt,
      heldCount: this.holdingOf(ref)?.length ?? 0,
    };
  }

  private row(id: string, queued: Queued): EffectRow {
    return {
      id,
      transition: queued.transition,
      identity: queued.identity,
      failures: this.attempts.get(queued.identity) ?? 0,
    };
  }

  private holdingOf(ref: EntityRef, create: true): Queued[];
  private holdingOf(ref: EntityRef, create?: boolean): Queued[] | undefined;
  private holdingOf(ref: EntityRef, create = false): Queued[] | undefined {
    const member = memberOf(ref);
    let list = this.holding.get(member);
    if (!list && create) {
      list = [];
      this.holding.set(member, list);
    }
    return list;
  }
}

function memberOf(ref: EntityRef): string {
  return `${ref.aggregate}\u0000${ref.key}`;
}

function refOf(member: string): EntityRef {
  const at = member.indexOf('\u0000');
  return { aggregate: member.slice(0, at), key: member.slice(at + 1) };
}
