import { describe, expect, it } from 'vitest';
import { runCli } from '../../support/cli-io.ts';

describe('commands on one entity (inspect, history, retry, skip)', () => {
  it.each(['inspect', 'history', 'retry', 'skip'])(
    '%s refuses anything but <aggregate> <key> and an unknown aggregate, with a usage error',
    async (command) => {
      const missingKey = await runCli([command, 'order']);
      expect(missingKey.code).toBe(2);
      expect(missingKey.stderr).toContain('expected exactly two arguments: <aggregate> <key>');
      const unknown = await runCli([command, 'invoice', 'i-1']);
      expect(unknown.code).toBe(2);
      expect(unknown.stderr).toContain('unknown aggregate "invoice" (known: order, customer, valve)');
    },
  );

  it('inspect on the embedded store finds no entity in a fresh process and says so', async () => {
    const result = await runCli(['inspect', 'order', 'o-1']);
    expect(result.code).toBe(1);
    expect(result.stderr).toContain('no entity order/o-1 in this store');
  });
});
