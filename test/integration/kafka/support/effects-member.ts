/**
 * A Kafka member with a durable transition handler, as a child process (`node --import tsx`,
 * forked) for the kill -9 and SIGSTOP tests. Every line goes to GK_CALLS with a synchronous
 * O_APPEND write, shared by all members, so the file's order is the order things happened:
 *   { type: 'owned', member, partitions }                  each assignment
 *   { type: 'start' | 'ok', member, entity, id, idempotencyKey, attempt }   each handler call
 * GK_DIE_AT=n kills the process (kill -9) inside its n-th handler call. GK_HANDLER_MS makes each
 * call wait that long. SIGTERM stops it cleanly.
 */
import { effectCall } from '../../../support/effect-call.ts';
import { appendFileSync, readFileSync } from 'node:fs';
import { runGatekeeper, type RunConfigInput } from '../../../../src/kafka/index.ts';

const env = process.env;
const member = env.GK_NAME as string;
const callsFile = env.GK_CALLS as string;
const dieAt = Number(env.GK_DIE_AT ?? 0);
const handlerMs = Number(env.GK_HANDLER_MS ?? 1);
const config = JSON.parse(readFileSync(env.GK_CONFIG as string, 'utf8')) as RunConfigInput;
const note = (line: object) => appendFileSync(callsFile, `${JSON.stringify({ member, ...line })}\n`);
let calls = 0;

const running = await runGatekeeper(
  { ...config, clientId: member },
  {
    effects: { concurrency: 8, backoff: { initialMs: 1, maxMs: 5 }, idlePollMs: 200 },
    onTransition: async (transition, context) => {
      calls += 1;
      const line = effectCall(transition, context);
      note({ type: 'start', ...line });
      await new Promise((resolve) => setTimeout(resolve, handlerMs));
      if (calls === dieAt) process.kill(process.pid, 'SIGKILL');
      note({ type: 'ok', ...line });
    },
    metrics: {
      ownedPartitions: (partitions) => note({ type: 'owned', partitions: [...partitions] }),
    },
  },
);
process.send?.({ type: 'running' });
process.once('SIGTERM', () => {
  void running.stop().then(() => process.exit(0));
});
