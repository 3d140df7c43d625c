import { describe, expect, it } from 'vitest';
import machines from '../../../machines/index.ts';
import { createGatekeeper } from '../../../src/index.ts';
import { MetricsSink } from '../../../src/kafka/metrics.ts';
import { event, orderHistory } from '../../support/events.ts';

describe('Kafka runtime metrics hooks', () => {
  it('report each aggregate’s buffer depth as events start waiting and leave the buffer', async () => {
    const depths: string[] = [];
    const sink = new MetricsSink({ bufferDepth: (aggregate, depth) => depths.push(`${aggregate}=${depth}`) });
    const gatekeeper = createGatekeeper({ machines, sweepIntervalMs: 0 });
    gatekeeper.subscribe({ onOutcome: (outcome) => sink.decision(outcome) });
    const [placed, paid, shipped] = orderHistory('o-1');
    await gatekeeper.handle(shipped); // waits for seq 2
    await gatekeeper.handle(paid); // waits for seq 1
    await gatekeeper.handle(event('valve', 'v-1', 'valve.opened', { seq: 2, payload: { flow: 5 } }));
    await gatekeeper.handle(placed); // applied, then both waiting ones drained
    await gatekeeper.handle(paid); // a duplicate: discarded on arrival, the depth does not move
    expect(depths).toEqual(['order=1', 'order=2', 'valve=1', 'order=1', 'order=0']);
    await gatekeeper.close();
  });

  it('keep processing when a hook throws', () => {
    const sink = new MetricsSink({
      bufferDepth: () => {
        throw new Error('broken dashboard');
      },
    });
    const [first] = orderHistory('o-2');
    expect(() =>
      sink.decision({
        outcome: 'buffered',
        reason: 'seq-gap',
        id: first?.id ?? null,
        aggregate: 'order',
        key: 'o-2',
        seq: 3,
        type: 'order.shipped',
        state: 'new',
        fromBuffer: false,
      }),
    ).not.toThrow();
  });
});
