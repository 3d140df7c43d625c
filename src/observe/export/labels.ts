/** Text shared by the drawings: how a transition is labelled. */
import type { TransitionModel } from './machine-model.ts';

/** "order.paid [amountMatchesTotal]", "always", "after 1000ms". */
export function transitionLabel(transition: TransitionModel): string {
  const trigger =
    transition.kind === 'always'
      ? 'always'
      : transition.kind === 'after'
        ? `after ${transition.event}ms`
        : transition.event;
  return transition.guard === undefined ? trigger : `${trigger} [${transition.guard}]`;
}
