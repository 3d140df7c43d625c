/**
 * The transition handler's metrics (docs/effects.md): effects run, failed attempts, exhausted and
 * dead-lettered ones and operator verbs as counters read from the runners' stats on each scrape;
 * the failure log (entities holding effects) and the queue backlog as gauges read from the store.
 */
import type { Gatekeeper } from '../gatekeeper/gatekeeper.ts';
import type { EffectStats } from '../gatekeeper/effects/effect-stats.ts';
import type { MetricScope } from './metric-scope.ts';

export const EFFECT_METRIC_NAMES = {
  effects: 'gatekeeper_effects_total',
  failed: 'gatekeeper_effects_failed_entities',
  held: 'gatekeeper_effects_held',
  pending: 'gatekeeper_effects_pending',
} as const;

/** Counter label → the stats field it reports. */
const RESULTS: ReadonlyArray<[string, keyof EffectStats]> = [
  ['ran', 'ran'],
  ['succeeded-after-retry', 'succeededAfterRetry'],
  ['failed-attempt', 'failedAttempts'],
  ['exhausted', 'exhausted'],
  ['dead-lettered', 'deadLettered'],
  ['held', 'held'],
  ['operator-retry', 'operatorRetries'],
  ['operator-skip', 'operatorSkips'],
];

export function registerEffectMetrics(
  scope: MetricScope,
  target: () => Gatekeeper | undefined,
  limit: number,
  onScrapeError: () => void,
): void {
  const reported = new Map<string, number>();
  scope.counter(EFFECT_METRIC_NAMES.effects, {
    help: 'Transition handler effects by result: ran (succeeded), succeeded-after-retry, failed-attempt, exhausted (to the failure log), dead-lettered, held (moved behind a failing one), operator-retry, operator-skip.',
    labelNames: ['result'] as const,
    collect() {
      const stats = target()?.effects?.stats();
      if (!stats) return;
      for (const [result, field] of RESULTS) {
        const delta = stats[field] - (reported.get(result) ?? 0);
        if (delta > 0) this.inc({ result }, delta);
        reported.set(result, stats[field]);
      }
    },
  });
  const failures = async () => (await target()?.effects?.failures(limit)) ?? [];
  scope.gauge(EFFECT_METRIC_NAMES.failed, {
    help: `Entities stopped on a failed effect (in the failure log), by aggregate; read per scrape, at most ${limit}.`,
    labelNames: ['aggregate'] as const,
    async collect() {
      if (!target()?.effects) return;
      try {
        this.reset();
        const counts = new Map<string, number>();
        for (const failure of await failures())
          counts.set(failure.aggregate, (counts.get(failure.aggregate) ?? 0) + 1);
        for (const [aggregate, count] of counts) this.set({ aggregate }, count);
      } catch {
        onScrapeError();
      }
    },
  });
  scope.gauge(EFFECT_METRIC_NAMES.held, {
    help: `Effects held behind the failed ones of the failure log (read per scrape, at most ${limit} entities).`,
    async collect() {
      if (!target()?.effects) return;
      try {
        this.set((await failures()).reduce((sum, failure) => sum + failure.heldCount, 0));
      } catch {
        onScrapeError();
      }
    },
  });
  scope.gauge(EFFECT_METRIC_NAMES.pending, {
    help: 'Effects committed but not yet run, in the queues of the shards this process runs (the backlog).',
    async collect() {
      const effects = target()?.effects;
      if (!effects) return;
      try {
        this.set(await effects.pending());
      } catch {
        onScrapeError();
      }
    },
  });
}
