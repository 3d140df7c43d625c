/**
 * What an operator sees when `gatekeeper run` cannot start: one timestamped line naming the
 * brokers and the cause (no stack), exit code 1 — for an unreachable broker and a missing input
 * topic — and a missing output topic named in a warning.
 */
import { describe, expect, it } from 'vitest';
import { main } from '../../../src/cli/main.ts';
import { KafkaStartError } from '../../../src/kafka/kafka-errors.ts';
import { runGatekeeper } from '../../../src/kafka/index.ts';
import { captureIO } from '../../support/cli-io.ts';
import { freePort } from '../store/support/redis-servers.ts';
import { useSharedBroker } from './support/runtime.ts';

const setUpTest = useSharedBroker();

const lineShape = /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z (INFO |WARN |ERROR) gatekeeper run: /;

describe('gatekeeper run start-up failures', () => {
  it('names an unreachable broker and the cause in one line without a stack, and exits 1', async () => {
    const port = await freePort();
    const io = captureIO();
    const code = await main(
      [
        'run',
        '--machines',
        'machines/index.ts',
        '--brokers',
        `127.0.0.1:${port}`,
        '--group',
        'g',
        '--input',
        'in',
        '--output',
        'out',
        '--dead-letter',
        'dead',
      ],
      io,
    );
    expect(code).toBe(1);
    const last = io.err().trim().split('\n').at(-1) ?? '';
    expect(last).toMatch(lineShape);
    expect(last).toContain(`cannot start on Kafka 127.0.0.1:${port}`);
    expect(last).toContain('ECONNREFUSED');
    expect(io.err()).not.toMatch(/\n\s+at /); // no stack anywhere
  }, 120_000);

  it('refuses a missing input topic by name, and warns about a missing output topic', async () => {
    const setup = await setUpTest('missing-topic', 1);
    const lines: string[] = [];
    const logger = (level: string, message: string) => lines.push(`${level} ${message}`);
    const missing = `${setup.input}-typo`;
    const refused = runGatekeeper(
      setup.config({ topics: { input: [missing], output: setup.output, deadLetter: setup.deadLetter } }),
      {
        logger,
      },
    );
    await expect(refused).rejects.toBeInstanceOf(KafkaStartError);
    await expect(refused).rejects.toThrow(`input topic "${missing}" does not exist`);

    const running = await setup.start(
      { topics: { input: [setup.input], output: `${setup.output}-later`, deadLetter: setup.deadLetter } },
      { logger },
    );
    await running.stop();
    expect(
      lines.some(
        (line) =>
          line.startsWith('warn') && line.includes(`output topic "${setup.output}-later" does not exist`),
      ),
    ).toBe(true);
  }, 120_000);
});
