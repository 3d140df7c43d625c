/**
 * Gauges of the entities that need looking at, read from the attached gatekeeper's store on each
 * scrape: stalled and parked entities per aggregate, and all entities waiting for an operator by
 * aggregate and reason. A failed read keeps the last values and counts a scrape error.
 */
import type { Gatekeeper } from '../gatekeeper/gatekeeper.ts';
import { METRIC_NAMES } from './metric-names.ts';
import type { MetricScope } from './metric-scope.ts';

/** Registers the stalled, parked and attention gauges of whatever gatekeeper `target` returns. */
export function registerEntityGauges(
  scope: MetricScope,
  target: () => Gatekeeper | undefined,
  limit: number,
  onScrapeError: () => void,
): void {
  /** A gauge of entities per aggregate, read from the store on every scrape. */
  const entitiesPerAggregate = (
    metric: string,
    help: string,
    read: (source: Gatekeeper) => Promise<readonly { aggregate: string }[]>,
  ) =>
    scope.gauge(metric, {
      help,
      labelNames: ['aggregate'] as const,
      async collect() {
        const source = target();
        if (!source) return;
        try {
          const counts = new Map<string, number>(
            [...source.aggregates.keys()].map((aggregate) => [aggregate, 0]),
          );
          for (const ref of await read(source))
            counts.set(ref.aggregate, (counts.get(ref.aggregate) ?? 0) + 1);
          for (const [aggregate, count] of counts) this.set({ aggregate }, count);
        } catch {
          onScrapeError();
        }
      },
    });
  entitiesPerAggregate(
    METRIC_NAMES.stalled,
    `Entities whose oldest buffered event is older than their aggregate's stall limit (read per scrape, at most ${limit}).`,
    (source) => source.stalled(limit),
  );
  entitiesPerAggregate(
    METRIC_NAMES.parked,
    `Entities stopped on a parked event, waiting for an operator (read per scrape, at most ${limit}).`,
    (source) => source.parked(limit),
  );
  scope.gauge(METRIC_NAMES.attention, {
    help: `Entities waiting for an operator, by aggregate and reason: parked-on-rejection, or held (incompatible-snapshot, newer-version, migration-threw, migration-invalid, corrupt-snapshot, corrupt-entity, aggregate-not-registered), or effect-failed; read per scrape, at most ${limit}.`,
    labelNames: ['aggregate', 'reason'] as const,
    async collect() {
      const source = target();
      if (!source) return;
      try {
        const entries = await source.attention(limit);
        this.reset();
        const counts = new Map<string, { aggregate: string; reason: string; count: number }>();
        for (const entry of entries) {
          const id = `${entry.aggregate}\u0000${entry.reason}`;
          const row = counts.get(id) ?? { aggregate: entry.aggregate, reason: entry.reason, count: 0 };
          row.count += 1;
          counts.set(id, row);
        }
        for (const row of counts.values())
          this.set({ aggregate: row.aggregate, reason: row.reason }, row.count);
      } catch {
        onScrapeError();
      }
    },
  });
}
