/**
 * The service: a gatekeeper consumer embedded in the service's own process. Every transition
 * gatekeeper lets through is handed to `onTransition`, which writes the shipment's current state
 * into PostgreSQL, once per idempotency key. Run it as `npm start` (env: see config.ts); stop it
 * with SIGTERM or Ctrl-C: the batch in flight finishes, running handlers settle, offsets commit.
 */
import pg from 'pg';
import { runGatekeeper, type RunLogLevel } from 'gatekeeper/kafka';
import { configFromEnv } from './config.ts';
import { applyTransition, createSchema } from './read-model.ts';

const log = (level: RunLogLevel | 'info', message: string) =>
  process.stderr.write(`${new Date().toISOString()} ${level} ${message}\n`);

const config = configFromEnv();
const pool = new pg.Pool({ connectionString: config.pgUrl, max: config.pgPoolSize });
// An idle connection that breaks (server restart) must not crash the process: the next query
// opens a new one, and a failed handler attempt is retried by gatekeeper.
pool.on('error', (error) => log('warn', `postgres connection lost: ${error.message}`));
await createSchema(pool);

let applied = 0;
let alreadyApplied = 0;
const running = await runGatekeeper(config.gatekeeper, {
  logger: (level, message) => log(level, message),
  onTransition: async (transition, { idempotencyKey }) => {
    const result = await applyTransition(pool, transition, idempotencyKey);
    if (result === 'applied') {
      applied += 1;
    } else {
      // Handed over again after a crash: an earlier attempt committed it, so nothing changes.
      alreadyApplied += 1;
      log('info', `read model: ${idempotencyKey} already applied, skipped`);
    }
  },
  // No more handlers at once than connections to run them on.
  effects: { concurrency: config.pgPoolSize },
});
log(
  'info',
  `read model: consuming ${String(config.gatekeeper.topics.input)} into ${new URL(config.pgUrl).pathname.slice(1)}`,
);

let stopping: Promise<void> | undefined;
function stop(signal: string): Promise<void> {
  stopping ??= (async () => {
    log('info', `read model: ${signal}, stopping`);
    await running.stop();
    await pool.end();
    log(
      'info',
      `read model: stopped; ${applied} transitions applied, ${alreadyApplied} found applied already`,
    );
  })();
  return stopping;
}
process.once('SIGTERM', () => void stop('SIGTERM'));
process.once('SIGINT', () => void stop('SIGINT'));

try {
  await running.done;
} catch (error) {
  log('error', `read model: gatekeeper stopped: ${error instanceof Error ? error.message : String(error)}`);
  await pool.end().catch(() => undefined);
  process.exitCode = 1;
}
await stopping;
