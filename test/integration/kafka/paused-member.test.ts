/**
 * A member paused (SIGSTOP) past its session timeout while it holds the input: the group moves its
 * partitions to the other member, and when the paused one resumes, the broker refuses its offset
 * commits and heartbeats (its generation is gone) — it rejoins instead of committing over the
 * other's work. Afterwards every entity still has exactly its in-order transitions.
 */
import { rmSync } from 'node:fs';
import { dirname } from 'node:path';
import { afterAll, expect, it } from 'vitest';
import { demoStream } from '../../../src/demo/stream.ts';
import { expectationFor, expectEverythingPublished } from './support/expected.ts';
import { committedTotal, eventMessage, produce } from './support/kafka.ts';
import { startGatekeeper, writeConfig, type GatekeeperProcess } from './support/processes.ts';
import { useSharedBroker, waitFor, waitUntilCaughtUp } from './support/runtime.ts';

const setUpTest = useSharedBroker();
const processes: GatekeeperProcess[] = [];
let configFile: string | undefined;

afterAll(() => {
  for (const process of processes) {
    process.kill('SIGCONT');
    process.kill('SIGKILL');
  }
  if (configFile) rmSync(dirname(configFile), { recursive: true, force: true });
});

it('a member paused past its session timeout is refused by the group when it resumes, and nothing is applied twice', async () => {
  const stream = demoStream({
    entities: 800,
    seed: 31,
    duplicateRate: 0.1,
    illegalRate: 0.03,
    garbageRate: 0.005,
  });
  const expected = await expectationFor(stream);
  const messages = stream.inputs.map(eventMessage);
  const total = messages.length;
  const setup = await setUpTest('paused-member', 4);
  configFile = writeConfig(
    setup.config({
      limits: {
        sessionTimeoutMs: 6_000,
        heartbeatIntervalMs: 1_000,
        relayIdleMs: 50,
        maxInFlight: 50,
        maxBytesPerPartition: 8_192,
      },
    }),
  );
  const paused = startGatekeeper('paused', configFile);
  processes.push(paused);
  await paused.consuming;
  const producing = (async () => {
    for (let at = 0; at < total; at += 300) {
      await produce(setup.brokers, setup.input, messages.slice(at, at + 300));
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
  })();
  await waitFor(
    'some input committed',
    async () => (await committedTotal(setup.brokers, setup.group, setup.input)) > 0,
  );
  paused.kill('SIGSTOP');
  const pausedAt = await committedTotal(setup.brokers, setup.group, setup.input);
  const other = startGatekeeper('other', configFile);
  processes.push(other);
  await other.consuming;
  await producing;
  await waitUntilCaughtUp(setup, total, 150_000);
  const before = paused.log().length;
  paused.kill('SIGCONT');
  // The resumed member learns from the coordinator that its generation is gone.
  await waitFor(
    'the resumed member refused by the group',
    () =>
      Promise.resolve(
        /REBALANCE_IN_PROGRESS|ILLEGAL_GENERATION|UNKNOWN_MEMBER_ID|not aware of this member|rebalancing/i.test(
          paused.log().slice(before),
        ),
      ),
    60_000,
  );
  await waitUntilCaughtUp(setup, total, 60_000);
  paused.kill('SIGTERM');
  other.kill('SIGTERM');
  const [pausedExit, otherExit] = await Promise.all([paused.exited, other.exited]);
  expect(pausedExit.code, paused.log()).toBe(0);
  expect(otherExit.code, other.log()).toBe(0);
  expect(pausedAt).toBeLessThan(total);
  const { output, dead } = await expectEverythingPublished(setup, expected);
  expect(output.malformed).toBe(0);
  expect(dead.inconsistent).toBe(0);
}, 300_000);
