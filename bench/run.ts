/**
 * `npm run bench [-- --json] [-- --entities N] [-- --rounds N]`: the embedded benchmark.
 * Prints medians and the ratio against the baseline measured in the same run; with --json the
 * last line is one JSON object with eventsPerSec, baselineEventsPerSec and ratio.
 */
import { parseArgs } from 'node:util';
import { benchEmbedded } from './embedded.ts';
import { fmt } from './stats.ts';

const { values } = parseArgs({
  options: {
    json: { type: 'boolean' },
    entities: { type: 'string' },
    rounds: { type: 'string' },
  },
});

const figures = await benchEmbedded({
  ...(values.entities ? { entities: Number(values.entities) } : {}),
  ...(values.rounds ? { rounds: Number(values.rounds) } : {}),
});
console.log(
  `embedded store, demo stream: ${fmt(figures.inputs)} records for ${fmt(figures.entities)} entities, median of ${figures.rounds} rounds`,
);
console.log(
  `  gatekeeper  ${fmt(figures.eventsPerSec).padStart(9)} events/s   (samples ${figures.samples.gatekeeper.map(fmt).join(', ')})`,
);
console.log(
  `  baseline    ${fmt(figures.baselineEventsPerSec).padStart(9)} events/s   (live actor per entity, in order, no gatekeeping)`,
);
console.log(`  ratio       ${figures.ratio.toFixed(2)}   (target ≥ 0.50; and ≥ 50,000 events/s)`);
console.log(`  memory      ${fmt(figures.bytesPerResidentEntity)} bytes per resident entity`);
if (values.json) console.log(JSON.stringify(figures));
