/**
 * Events of an aggregate this process has no machine for. When the store has entities of it
 * committed by another member (their registries disagree), the event is buffered on its entity
 * and the entity held (`aggregate-not-registered`), for a member that knows it to drain; it is
 * rejected as `unknown-aggregate` otherwise. See core/foreign.ts for the decision.
 */
import type { Aggregate } from '../core/aggregate.ts';
import type { HeldMark } from '../core/attention.ts';
import type { Clock } from '../core/clock.ts';
import type { Decision } from '../core/decision.ts';
import { EMPTY_ENTITY, oldestBufferedAt } from '../core/entity.ts';
import type { EventEnvelope } from '../core/envelope.ts';
import { VersionConflictError } from '../core/errors.ts';
import { decideForeign } from '../core/foreign.ts';
import { toHistoryEntry } from '../core/history.ts';
import type { InputSource } from '../core/outcome.ts';
import type { EntityStore } from '../store/entity-store.ts';
import { toHandleResult } from './decision-loop.ts';
import type { HandleResult } from './gatekeeper-api.ts';
import type { Listeners } from './listeners.ts';
import type { Mailboxes } from './mailbox.ts';
import { rejectWithoutEntity } from './reject-without-entity.ts';
import { entityId } from './resident-entities.ts';
import type { VersionRegistry } from './version-registry.ts';

export interface ForeignEventsDeps {
  store: EntityStore;
  clock: Clock;
  listeners: Listeners;
  registry: VersionRegistry;
  mailboxes: Mailboxes;
  aggregates: ReadonlyMap<string, Aggregate>;
  maxConflictRetries: number;
}

/** An event of an aggregate with no machine here: held for another member, or unknown-aggregate. */
export function handleForeignEvent(
  deps: ForeignEventsDeps,
  event: EventEnvelope,
  source: InputSource | undefined,
): Promise<HandleResult> {
  return deps.mailboxes.run(entityId(event.aggregate, event.key), async () => {
    if (await knownElsewhere(deps.registry, event.aggregate))
      return toHandleResult(await holdForeignEvent(deps, event, source));
    const known = [...deps.aggregates.keys()].join(', ');
    return rejectWithoutEntity(
      deps,
      event,
      'unknown-aggregate',
      `no machine is registered for aggregate "${event.aggregate}" (known: ${known})`,
      { identity: event, event, source },
    );
  });
}

/** True when another member of the store knows the aggregate (re-read from the store when stale). */
async function knownElsewhere(registry: VersionRegistry, aggregate: string): Promise<boolean> {
  await registry.refreshIfStale();
  return registry.knowsAggregate(aggregate);
}

/** Buffers the event on its entity and holds the entity; run inside the entity's mailbox. */
async function holdForeignEvent(
  deps: ForeignEventsDeps,
  event: EventEnvelope,
  source: InputSource | undefined,
): Promise<Decision> {
  const { store, clock, listeners, registry } = deps;
  const ref = { aggregate: event.aggregate, key: event.key };
  const versions = [...(registry.versionsOf(ref.aggregate)?.keys() ?? [])].join(', ');
  for (let attempt = 0; attempt <= deps.maxConflictRetries; attempt += 1) {
    const stored = await store.load(ref);
    const now = clock.now();
    const mark: HeldMark = {
      reason: 'aggregate-not-registered',
      detail: `this process has no machine for aggregate "${ref.aggregate}", but the store has entities of it (version ${versions}) committed by another member: its events wait for a member that knows it`,
      since: now,
    };
    const decision = decideForeign(stored ?? EMPTY_ENTITY, event, mark, now, source);
    const committed = await store.commit(ref, {
      expectedVersion: stored?.version ?? 0,
      entity: decision.entity,
      snapshot: undefined,
      bufferAdded: decision.bufferAdded,
      bufferRemoved: decision.bufferRemoved,
      seenAdded: decision.seenAdded,
      parkedChanged: false,
      heldChanged: decision.heldChanged,
      // The entity's stamp stays whatever the member that knows it wrote.
      machineVersion: '',
      committedAt: now,
      applied: [],
      deadLetters: [],
      history: decision.outcomes.map((outcome) => toHistoryEntry(outcome, now)),
      oldestBufferedAt: oldestBufferedAt(decision.entity),
      final: false,
    });
    if (!committed.ok) continue;
    const held = decision.heldChanged ? decision.entity.held : undefined;
    listeners.emit(
      decision.outcomes,
      [],
      [],
      held && { ...ref, reason: held.reason, detail: held.detail, since: held.since },
    );
    return decision;
  }
  throw new VersionConflictError(ref.aggregate, ref.key, -1);
}
