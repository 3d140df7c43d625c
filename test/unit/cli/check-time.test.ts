import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { runCli } from '../../support/cli-io.ts';

const fixture = (name: string) => fileURLToPath(new URL(`../../fixtures/${name}`, import.meta.url));

describe('gatekeeper check in time mode', () => {
  it('orders a valve stream that only carries times: a late opened is stale-time, a far-future time is rejected', async () => {
    const { code, stdout } = await runCli(['check', fixture('valve-timed.ndjson'), '--final']);
    expect(code).toBe(0);
    const lines = stdout
      .trim()
      .split('\n')
      .map((line) => JSON.parse(line) as Record<string, unknown>);
    expect(
      lines.map((l) => (l.final ? `final:${String(l.state)}` : `${String(l.id)}:${String(l.reason)}`)),
    ).toEqual([
      'v-1:legal',
      'v-3:future-type',
      'v-2:legal',
      'v-3:drained',
      'v-2b:stale-time',
      'v-4:legal',
      'v-5:future-time',
      'final:open',
    ]);
  });
});
