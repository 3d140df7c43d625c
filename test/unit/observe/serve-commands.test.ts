import { describe, expect, it } from 'vitest';
import { main } from '../../../src/cli/main.ts';
import { captureIO } from '../../support/cli-io.ts';

describe('long-running commands that serve pages', () => {
  it('gatekeeper ui --demo serves the page, gates the demo stream and stops on Ctrl-C', async () => {
    const io = captureIO();
    const running = main(['ui', '--port', '0', '--demo', '--entities', '30', '--rate', '100000'], io);
    try {
      const [, url] = await io.waitFor('out', /gatekeeper ui: (http:\/\/127\.0\.0\.1:\d+\/)/);
      await io.waitFor('out', /demo: \d+ records gated/);
      const page = await fetch(url as string);
      expect(page.status).toBe(200);
      expect(await page.text()).toContain('<title>gatekeeper</title>');
      const stats = (await (await fetch(`${url}api/stats`)).json()) as {
        decisions: number;
        aggregates: Record<string, unknown>;
      };
      expect(stats.decisions).toBeGreaterThan(30);
      expect(Object.keys(stats.aggregates)).toEqual(['order', 'customer', 'valve']);
      const machines = (await (await fetch(`${url}api/machines`)).json()) as { svg: string }[];
      expect(machines.every((machine) => machine.svg.startsWith('<svg'))).toBe(true);
    } finally {
      io.interrupt();
    }
    expect(await running).toBe(0);
  });

  it('gatekeeper demo --metrics-port serves /metrics after the summary until Ctrl-C', async () => {
    const io = captureIO();
    const running = main(['demo', '--entities', '30', '--quiet', '--metrics-port', '0'], io);
    try {
      const [, url] = await io.waitFor('err', /still serving (http:\/\/127\.0\.0\.1:\d+\/metrics)/);
      const text = await (await fetch(url as string)).text();
      expect(text).toMatch(
        /^gatekeeper_decisions_total\{aggregate="order",outcome="applied",reason="legal"\} \d+$/m,
      );
      expect(text).toContain('gatekeeper_decision_duration_seconds_bucket');
    } finally {
      io.interrupt();
    }
    expect(await running).toBe(0);
  });

  it('refuses a bad port', async () => {
    const io = captureIO();
    expect(await main(['ui', '--port', '70000'], io)).toBe(1);
    expect(io.err()).toContain('--port must be a port number');
  });
});
