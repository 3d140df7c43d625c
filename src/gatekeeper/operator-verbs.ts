/**
 * The operator's `retry` and `skip`, on whatever stopped the entity: its failed effect (the
 * effect verbs), its hold (`retry` migrates it, `skip` rejects what it held) or its parked event.
 */
import type { Aggregate } from '../core/aggregate.ts';
import { OperatorActionError } from '../core/errors.ts';
import type { Outcome } from '../core/outcome.ts';
import { decideRetry, decideSkip, decideSkipHeld } from '../core/operator-decisions.ts';
import type { EntityStore } from '../store/entity-store.ts';
import { asDecided, type DecisionLoop } from './decision-loop.ts';
import {
  retryFailedEffect,
  skipFailedEffect,
  type EffectsEngine,
  type GatekeeperEffects,
} from './effects/effects-engine.ts';
import type { EntityInspection } from './gatekeeper-api.ts';
import { migrateEntity } from './lifecycle-verbs.ts';

export interface OperatorVerbsDeps {
  loop: DecisionLoop;
  store: EntityStore;
  effectsEngine: EffectsEngine | undefined;
  requireAggregate(name: string): Aggregate;
  inspect(aggregate: string, key: string): Promise<EntityInspection | undefined>;
}

export async function retryEntity(
  deps: OperatorVerbsDeps,
  aggregate: string,
  key: string,
): Promise<Outcome[]> {
  if (await effectFailed(deps, aggregate, key)) {
    await effectVerbs(deps).retry(aggregate, key);
    return [];
  }
  if (await isHeld(deps, aggregate, key))
    return migrateEntity(deps.loop.reload, deps.requireAggregate(aggregate), key);
  return actOnParked(deps, aggregate, key, 'retry', decideRetry);
}

export async function skipEntity(
  deps: OperatorVerbsDeps,
  aggregate: string,
  key: string,
): Promise<Outcome[]> {
  if (await effectFailed(deps, aggregate, key)) {
    await effectVerbs(deps).skip(aggregate, key);
    return [];
  }
  if (!(await isHeld(deps, aggregate, key))) return actOnParked(deps, aggregate, key, 'skip', decideSkip);
  const { loop } = deps;
  const { outcomes } = await loop.decideFor(
    deps.requireAggregate(aggregate),
    key,
    (resident, now) =>
      resident.hold ? decideSkipHeld(loop.contextFor(resident, now), resident.entity) : undefined,
    asDecided,
    { reload: true },
  );
  return outcomes;
}

/** One attention model: an entity stopped on a failed effect takes the verbs on its effect. */
async function effectFailed(deps: OperatorVerbsDeps, aggregate: string, key: string): Promise<boolean> {
  deps.requireAggregate(aggregate);
  return (await deps.store.effects?.failure({ aggregate, key })) !== undefined;
}

/** The engine's verbs, or (an operator tool without a handler) the store's own. */
function effectVerbs(deps: OperatorVerbsDeps): Pick<GatekeeperEffects, 'retry' | 'skip'> {
  if (deps.effectsEngine) return deps.effectsEngine;
  const store = deps.store.effects;
  if (!store) throw new OperatorActionError('this store keeps no effects');
  return {
    retry: (aggregate, key) => retryFailedEffect(store, { aggregate, key }),
    skip: (aggregate, key) => skipFailedEffect(store, { aggregate, key }),
  };
}

async function isHeld(deps: OperatorVerbsDeps, aggregate: string, key: string): Promise<boolean> {
  return (await deps.inspect(aggregate, key))?.held !== undefined;
}

/** Retry or skip the parked event; an OperatorActionError when the entity is not parked. */
async function actOnParked(
  deps: OperatorVerbsDeps,
  aggregate: string,
  key: string,
  action: 'retry' | 'skip',
  rule: typeof decideRetry,
): Promise<Outcome[]> {
  const { loop } = deps;
  const definition = deps.requireAggregate(aggregate);
  let parked = false;
  const { outcomes } = await loop.decideFor(
    definition,
    key,
    (resident, now) => {
      parked = resident.entity.parked !== undefined;
      return parked ? rule(loop.contextFor(resident, now), resident.entity) : undefined;
    },
    asDecided,
  );
  if (!parked)
    throw new OperatorActionError(`${aggregate}/${key} is not parked, so there is nothing to ${action}`);
  return outcomes;
}
