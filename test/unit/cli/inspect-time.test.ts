import { describe, expect, it } from 'vitest';
import machines from '../../../machines/index.ts';
import { renderInspection } from '../../../src/cli/commands/inspect.ts';
import { ManualClock } from '../../../src/core/clock.ts';
import { createGatekeeper } from '../../../src/index.ts';
import { T0, timed } from '../../support/timed.ts';

describe('gatekeeper inspect in time mode', () => {
  it('shows the last applied time and id, and the time of each held event', async () => {
    const clock = new ManualClock(T0 + 60_000);
    const gk = createGatekeeper({ machines, clock, sweepIntervalMs: 0, defaults: { holdMs: 1_000 } });
    const valve = timed('valve', 'v1');
    await gk.handle(valve(1, 'valve.installed', { site: 'n' }));
    clock.advance(1_001);
    await gk.handle(valve(2, 'valve.opened', { flow: 5 }));
    const text = renderInspection((await gk.inspect('valve', 'v1'))!, clock.now());
    expect(text).toContain('  time      2026-11-26T10:00:01.000000000Z (id v1@1)');
    expect(text).toContain('    2026-11-26T10:00:02.000Z valve.opened  id v1@2  waiting 0 ms');
    await gk.close();
  });
});
