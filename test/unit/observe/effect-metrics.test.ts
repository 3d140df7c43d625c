import { describe, expect, it } from 'vitest';
import machines from '../../../machines/index.ts';
import { createGatekeeper } from '../../../src/index.ts';
import { createMetrics } from '../../../src/observe/metrics.ts';
import { LiveView } from '../../../src/observe/ui/live-view.ts';
import { orderHistory } from '../../support/events.ts';
import { testEffects } from '../../support/effect-scenarios.ts';

describe('effects in metrics and the web view', () => {
  it('count effects by result, gauge the failed entities, held effects and backlog, and list the entity under "Needs attention"', async () => {
    const gatekeeper = createGatekeeper({
      machines,
      sweepIntervalMs: 0,
      effects: testEffects((transition) => {
        if (transition.key === 'bad') throw new Error('down');
      }),
    });
    const metrics = createMetrics(gatekeeper, { defaultMetrics: false });
    const view = new LiveView(gatekeeper);
    await gatekeeper.handleBatch([...orderHistory('good'), ...orderHistory('bad')]);
    await gatekeeper.effects?.idle();
    const text = await metrics.registry.metrics();
    expect(text).toContain('gatekeeper_effects_total{result="ran"} 4');
    expect(text).toContain('gatekeeper_effects_total{result="failed-attempt"} 3');
    expect(text).toContain('gatekeeper_effects_total{result="exhausted"} 1');
    expect(text).toContain('gatekeeper_effects_total{result="held"} 3');
    expect(text).toContain('gatekeeper_effects_failed_entities{aggregate="order"} 1');
    expect(text).toContain('gatekeeper_effects_held 3');
    expect(text).toContain('gatekeeper_effects_pending 0');
    expect(text).toContain('gatekeeper_attention_entities{aggregate="order",reason="effect-failed"} 1');
    // Counters report deltas: a second scrape does not count again.
    expect(await metrics.registry.metrics()).toContain('gatekeeper_effects_total{result="ran"} 4');
    await view.refreshFromStore();
    expect(view.snapshot().attention.parked).toEqual([
      { aggregate: 'order', key: 'bad', reason: 'effect-failed' },
    ]);
    metrics.close();
    await gatekeeper.close();
  });
});
