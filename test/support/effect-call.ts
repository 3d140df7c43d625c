/** What the effect test processes record of one handler call (no vitest here: child processes load it). */
import type { AppliedTransition } from '../../src/core/outcome.ts';
import type { TransitionEffectContext } from '../../src/gatekeeper/effects/options.ts';

export function effectCall(transition: AppliedTransition, context: TransitionEffectContext) {
  return {
    entity: `${transition.aggregate}/${transition.key}`,
    id: transition.id,
    idempotencyKey: context.idempotencyKey,
    attempt: context.attempt,
  };
}
