import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { runCli } from '../../support/cli-io.ts';

const fixture = (name: string) => fileURLToPath(new URL(`../../fixtures/${name}`, import.meta.url));

interface Report {
  aggregate: string;
  ordering: { needs: string; advice: string };
  policies: Record<string, unknown>;
}

describe('gatekeeper analyze: ordering', () => {
  it('says per aggregate whether its cycles need seq or time: the valve does, order and customer need neither', async () => {
    const { code, stdout } = await runCli(['analyze', '--json']);
    expect(code).toBe(0);
    const needs = Object.fromEntries(
      (JSON.parse(stdout) as Report[]).map((r) => [r.aggregate, r.ordering.needs]),
    );
    expect(needs).toEqual({ order: 'nothing', customer: 'nothing', valve: 'seq-or-time' });
  });

  it('names the cycle and what time alone gives with the aggregate’s hold, in text and JSON', async () => {
    const text = await runCli(['analyze', '--machines', fixture('door-machine.mjs')]);
    expect(text.stdout).toContain(
      'ordering: needs seq or time: cycles (door.shut → door.open) need seq or time on their events; with time only: held up to holdMs=2000 and applied in time order',
    );
    expect(text.stdout).toContain('holdMs=2000 maxFutureMs=5000');
    const json = await runCli(['analyze', '--machines', fixture('door-machine.mjs'), '--json']);
    const [door] = JSON.parse(json.stdout) as Report[];
    expect(door?.policies).toMatchObject({ holdMs: 2000, maxFutureMs: 5000 });
  });
});
