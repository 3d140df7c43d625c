import { describe, expect, it } from 'vitest';
import { createGatekeeperWithStore } from '../../../src/gatekeeper/gatekeeper.ts';
import { createMetrics } from '../../../src/observe/metrics.ts';
import { LiveView } from '../../../src/observe/ui/live-view.ts';
import { memoryStore } from '../../../src/store/memory-store.ts';
import { registries } from '../../fixtures/versions/ticket-machines.ts';
import { sequenced } from '../../support/events.ts';

describe('held entities in metrics and the web view', () => {
  it('are counted by reason in gatekeeper_attention_entities and gatekeeper_held_total, and listed under "Needs attention"', async () => {
    const store = memoryStore();
    const at = sequenced('ticket', 'k1');
    const v1 = createGatekeeperWithStore({ machines: registries.v1, store, sweepIntervalMs: 0 });
    await v1.handle(at(1, 'ticket.opened'));
    await v1.handle(at(2, 'ticket.assigned'));
    await v1.close();

    const v2 = createGatekeeperWithStore({ machines: registries.v2, store, sweepIntervalMs: 0 });
    const metrics = createMetrics(v2, { defaultMetrics: false });
    const view = new LiveView(v2);
    await v2.handle(at(3, 'ticket.resolved'));
    const text = await metrics.registry.metrics();
    expect(text).toContain(
      'gatekeeper_attention_entities{aggregate="ticket",reason="incompatible-snapshot"} 1',
    );
    expect(text).toContain('gatekeeper_held_total{aggregate="ticket",reason="incompatible-snapshot"} 1');
    await view.refreshFromStore();
    expect(view.snapshot().attention.parked).toEqual([
      { aggregate: 'ticket', key: 'k1', reason: 'incompatible-snapshot' },
    ]);
    metrics.close();
    await v2.close();
  });
});
