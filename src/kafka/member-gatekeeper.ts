/**
 * The gatekeeper a member decides with: its transition handler checked against the config (a run
 * must send applied transitions somewhere), its effect runners on the relays' store, and the note
 * at start when members sharing the store run registries that disagree.
 */
import type { MachineRegistryInput } from '../core/aggregate.ts';
import { InvalidConfigError } from '../core/errors.ts';
import type { ActorInspector } from '../gatekeeper/actor-cursor.ts';
import type { EffectsOptions, TransitionHandler } from '../gatekeeper/effects/options.ts';
import { createGatekeeperWithStore, type Gatekeeper } from '../gatekeeper/gatekeeper.ts';
import { registryDisagreements } from '../gatekeeper/version-registry.ts';
import type { RunConfig } from './config.ts';
import type { RunLogger } from './kafka-client.ts';
import type { RunStores } from './run-stores.ts';

export interface TransitionHandling {
  onTransition?: TransitionHandler;
  effects?: Omit<EffectsOptions, 'onTransition'>;
}

/** The transition handler with its options, if any; refuses a run that would drop transitions. */
export function transitionEffects(
  config: RunConfig,
  handling: TransitionHandling,
): EffectsOptions | undefined {
  if (config.topics.output === false && handling.onTransition === undefined)
    throw new InvalidConfigError(
      'topics.output is false but no transition handler was given: applied transitions would go nowhere. ' +
        'Name an output topic, or pass runGatekeeper(config, { onTransition })',
    );
  if (handling.effects !== undefined && handling.onTransition === undefined)
    throw new InvalidConfigError(
      'effects options were given without onTransition, the handler they configure',
    );
  return handling.onTransition && { ...handling.effects, onTransition: handling.onTransition };
}

export interface MemberGatekeeperParts {
  config: RunConfig;
  machines: MachineRegistryInput;
  stores: RunStores;
  effects: EffectsOptions | undefined;
  /** The store is shared by the group: effect runners follow the claimed shards. */
  sharedStore: boolean;
  inspect: ActorInspector | undefined;
  log: RunLogger;
}

export function memberGatekeeper(parts: MemberGatekeeperParts): Gatekeeper {
  const { config, effects, inspect, log } = parts;
  return createGatekeeperWithStore({
    machines: parts.machines,
    store: parts.stores.store,
    ...(effects
      ? {
          effects,
          effectStore: parts.stores.relayStore.effects,
          // With a shared store, each owned partition's runner starts when its shard is claimed.
          effectShards: parts.sharedStore ? ('manual' as const) : ('all' as const),
          onEffectError: effectErrorLog(log),
        }
      : {}),
    ...(inspect === undefined ? {} : { inspect }),
    ...(config.limits.maxResidentEntities === undefined
      ? {}
      : { maxResidentEntities: config.limits.maxResidentEntities }),
  });
}

/**
 * Members whose registries disagree (a rolling deploy, a forgotten aggregate) are reported once
 * at start; each entity they hold is logged when it happens (the runner's onHeld).
 */
export function reportRegistryDisagreements(gatekeeper: Gatekeeper, log: RunLogger): void {
  void gatekeeper.store.versions().then(
    (rows) => {
      for (const note of registryDisagreements(gatekeeper.aggregates, rows)) log('warn', note);
    },
    (error: unknown) => log('warn', `could not read the store's machine versions: ${String(error)}`),
  );
}

/** One warning per 10 s while the effect runners' store keeps failing (they retry with back-off). */
function effectErrorLog(log: RunLogger): (error: unknown, where: string) => void {
  let last = 0;
  return (error, where) => {
    const now = Date.now();
    if (now - last < 10_000) return;
    last = now;
    log('warn', `${where}: ${String(error)}; retrying`);
  };
}
