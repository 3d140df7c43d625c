/**
 * A process with a durable transition handler on the Redis store, for the kill -9 tests (run with
 * `node --import tsx` through child_process.fork). It decides the events of GK_EVENTS (a JSON file)
 * and runs their effects; every handler call is appended to GK_CALLS as one JSON line
 * `{ entity, id, idempotencyKey, attempt, ok }` with a synchronous write, so a line written before
 * a kill -9 survives it.
 *
 *   GK_MODE=commit-only  decide everything with no handler (the effects are queued), then kill -9
 *                        itself: "between the commit and the handler".
 *   GK_MODE=die-in-handler  run the handler; at call number GK_DIE_AT, kill -9 itself inside it.
 *   GK_MODE=finish       run the handler until every effect ran, then tell the parent and exit.
 */
import { appendFileSync, readFileSync } from 'node:fs';
import machines from '../../../machines/index.ts';
import { createGatekeeper } from '../../../src/index.ts';
import { redisStore } from '../../../src/store/redis/index.ts';

const env = process.env;
const mode = env.GK_MODE ?? 'finish';
const events = JSON.parse(readFileSync(env.GK_EVENTS as string, 'utf8')) as unknown[];
const callsFile = env.GK_CALLS as string;
const dieAt = Number(env.GK_DIE_AT ?? 0);
let calls = 0;

const store = redisStore({
  url: env.GK_REDIS_URL as string,
  prefix: env.GK_PREFIX as string,
  shards: 4,
  effects: true,
});
const gatekeeper = createGatekeeper({
  machines,
  store,
  sweepIntervalMs: 0,
  ...(mode === 'commit-only'
    ? {}
    : {
        effects: {
          concurrency: 8,
          backoff: { initialMs: 1, maxMs: 5 },
          onTransition: async (transition, context) => {
            calls += 1;
            const line = {
              entity: `${transition.aggregate}/${transition.key}`,
              id: transition.id,
              idempotencyKey: context.idempotencyKey,
              attempt: context.attempt,
            };
            // Some real waiting, so many entities' effects are in flight when the kill comes.
            await new Promise((resolve) => setTimeout(resolve, 1));
            if (mode === 'die-in-handler' && calls === dieAt) {
              appendFileSync(callsFile, `${JSON.stringify({ ...line, ok: false })}\n`);
              process.kill(process.pid, 'SIGKILL');
            }
            appendFileSync(callsFile, `${JSON.stringify({ ...line, ok: true })}\n`);
          },
        },
      }),
});
await store.ready();
// Fed in order, a window at a time, as a consumer would; a restarted process sees duplicates.
for (let at = 0; at < events.length; at += 200) await gatekeeper.handleBatch(events.slice(at, at + 200));
await gatekeeper.idle();
if (mode === 'commit-only') process.kill(process.pid, 'SIGKILL');
await gatekeeper.effects?.idle();
process.send?.({ type: 'done', calls });
await gatekeeper.close();
