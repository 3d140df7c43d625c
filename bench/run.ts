/**
 * `npm run bench` — every benchmark prints medians and a ratio against a baseline measured in
 * the same run; with --json the last line is one JSON object (eventsPerSec, baselineEventsPerSec,
 * ratio).
 *
 *   npm run bench                          embedded store vs one live actor per entity
 *   npm run bench -- --store redis [--profile]   Redis store vs a hand-written resequencer and a trivial EVALSHA, and where the gap goes (REDIS_URL)
 *   npm run bench -- --store redis --memory [--max-entities N]   memory as entities grow
 *   npm run bench -- --kafka               input topic → gatekeeper (Redis) → output topic vs a plain forwarder
 *   npm run bench -- --effects             a no-op transition handler vs none, same pipeline, memory and Redis (REDIS_URL)
 *   npm run bench -- --startup             CLI start-up (--help, analyze) vs a bare node start
 *   npm run bench -- --example             the example service (handler → PostgreSQL) vs the same pipeline without a handler (KAFKA_BROKERS, REDIS_URL, PG_URL)
 * The plain `npm run bench` runs the embedded benchmark and then the start-up one.
 * Common flags: --entities N, --rounds N, --json.
 */
import { parseArgs } from 'node:util';
import { benchEmbedded } from './embedded.ts';
import { fmt } from './stats.ts';
import { benchStartup, printStartupFigures } from './startup.ts';

const { values } = parseArgs({
  options: {
    json: { type: 'boolean' },
    entities: { type: 'string' },
    rounds: { type: 'string' },
    store: { type: 'string' },
    memory: { type: 'boolean' },
    'max-entities': { type: 'string' },
    kafka: { type: 'boolean' },
    startup: { type: 'boolean' },
    effects: { type: 'boolean' },
    example: { type: 'boolean' },
    profile: { type: 'boolean' },
  },
});
const sizes = {
  ...(values.entities ? { entities: Number(values.entities) } : {}),
  ...(values.rounds ? { rounds: Number(values.rounds) } : {}),
};
const log = (line: string) => console.log(line);

if (values.effects) {
  const { benchEffects } = await import('./effects.ts');
  const figures = await benchEffects({ ...sizes, log });
  if (values.json)
    console.log(
      JSON.stringify({
        ...figures,
        eventsPerSec: figures.redis.withHandler,
        baselineEventsPerSec: figures.redis.withoutHandler,
      }),
    );
} else if (values.startup) {
  const figures = benchStartup(sizes);
  printStartupFigures(figures, log);
  if (values.json) console.log(JSON.stringify(figures));
} else if (values.example) {
  const { benchExample, printExampleFigures } = await import('./example.ts');
  const figures = await benchExample({ ...sizes, log });
  printExampleFigures(figures, log);
  if (values.json) {
    const eventsPerSec = figures.example.eventsPerSec;
    console.log(
      JSON.stringify({ ...figures, eventsPerSec, baselineEventsPerSec: figures.baseline.eventsPerSec }),
    );
  }
} else if (values.kafka) {
  const { benchKafka, printKafkaFigures } = await import('./kafka.ts');
  const figures = await benchKafka({ ...sizes, log });
  printKafkaFigures(figures, log);
  if (values.json) {
    const { eventsPerSec } = figures.gatekeeper;
    console.log(
      JSON.stringify({ ...figures, eventsPerSec, baselineEventsPerSec: figures.baseline.eventsPerSec }),
    );
  }
} else if (values.store === 'redis' && values.memory) {
  const { benchRedisMemory, printRedisMemoryFigures } = await import('./redis-memory.ts');
  const figures = await benchRedisMemory({
    ...(values['max-entities'] ? { maxEntities: Number(values['max-entities']) } : {}),
    log,
  });
  printRedisMemoryFigures(figures, log);
  if (values.json) console.log(JSON.stringify(figures));
} else if (values.store === 'redis') {
  const { benchRedisStore } = await import('./redis-store.ts');
  const figures = await benchRedisStore({ ...sizes, profile: values.profile ?? false, log });
  if (values.json) console.log(JSON.stringify(figures));
} else if (values.store !== undefined && values.store !== 'memory') {
  console.error(`unknown --store ${values.store} (memory or redis)`);
  process.exitCode = 2;
} else {
  const figures = await benchEmbedded(sizes);
  log(
    `embedded store, demo stream: ${fmt(figures.inputs)} records for ${fmt(figures.entities)} entities, median of ${figures.rounds} rounds`,
  );
  log(
    `  gatekeeper  ${fmt(figures.eventsPerSec).padStart(9)} events/s   (samples ${figures.samples.gatekeeper.map(fmt).join(', ')})`,
  );
  log(
    `  baseline    ${fmt(figures.baselineEventsPerSec).padStart(9)} events/s   (live actor per entity, in order, no gatekeeping)`,
  );
  log(`  ratio       ${figures.ratio.toFixed(2)}   (target ≥ 0.50; and ≥ 50,000 events/s)`);
  log(`  memory      ${fmt(figures.bytesPerResidentEntity)} bytes per resident entity`);
  const startup = benchStartup();
  printStartupFigures(startup, log);
  if (values.json) console.log(JSON.stringify({ ...figures, startup }));
}
