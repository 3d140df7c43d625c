/**
 * The configuration of `runGatekeeper` / `gatekeeper run`, validated with zod so a bad value is a
 * clear error at start rather than a confusing failure later. Unknown fields are errors too: a
 * typo (`groupID`) must not silently fall back to a default.
 */
import { z } from 'zod';
import type { MachineRegistryInput } from '../core/aggregate.ts';
import { formatIssues } from '../core/envelope.ts';
import { InvalidConfigError } from '../core/errors.ts';

const brokerAddress = z.string().regex(/^[^\s:,]+:\d{1,5}$/, 'a broker must look like host:port');

/** `"a:9092,b:9092"` or `["a:9092", "b:9092"]`. */
const brokerList = z
  .union([z.string(), z.array(z.string())])
  .transform((value) =>
    (Array.isArray(value) ? value : value.split(','))
      .map((item) => item.trim())
      .filter((item) => item !== ''),
  )
  .pipe(z.array(brokerAddress).min(1, 'at least one broker is needed'));

/** `"a,b"` or `["a", "b"]`: one or more topic names. */
const topicList = z
  .union([z.string(), z.array(z.string())])
  .transform((value) =>
    (Array.isArray(value) ? value : value.split(','))
      .map((item) => item.trim())
      .filter((item) => item !== ''),
  )
  .pipe(z.array(z.string().min(1)).min(1, 'at least one input topic is needed'));

const tlsOptions = z.strictObject({
  ca: z.union([z.string(), z.array(z.string())]).optional(),
  cert: z.string().optional(),
  key: z.string().optional(),
  passphrase: z.string().optional(),
  servername: z.string().optional(),
  rejectUnauthorized: z.boolean().optional(),
});

/**
 * SASL credentials. The password may come from a file (`passwordFile`, read at start, one trailing
 * newline dropped) so it never has to be on a command line or in a config file; the CLI also reads
 * it from KAFKA_SASL_PASSWORD.
 */
const saslFields = {
  username: z.string().min(1),
  password: z.string().optional(),
  passwordFile: z.string().min(1).optional(),
};
const sasl = z
  .discriminatedUnion('mechanism', [
    z.strictObject({ mechanism: z.literal('plain'), ...saslFields }),
    z.strictObject({ mechanism: z.literal('scram-sha-256'), ...saslFields }),
    z.strictObject({ mechanism: z.literal('scram-sha-512'), ...saslFields }),
  ])
  .refine((value) => value.password === undefined || value.passwordFile === undefined, {
    message: 'give sasl.password or sasl.passwordFile, not both',
  });

const redisOptions = z.strictObject({
  url: z
    .string()
    .regex(/^rediss?:\/\//, 'redis url must start with redis:// or rediss://')
    .optional(),
  cluster: z
    .strictObject({
      nodes: z.array(z.string().regex(/^[^\s:]+:\d+$/, 'a cluster node must look like host:port')).min(1),
    })
    .optional(),
  prefix: z
    .string()
    .min(1)
    .regex(/^[^{}]+$/, 'prefix must not contain braces')
    .optional(),
  shards: z.number().int().positive().optional(),
  username: z.string().optional(),
  password: z.string().optional(),
  db: z.number().int().min(0).optional(),
  tls: z.union([z.boolean(), tlsOptions]).optional(),
  historyLimit: z.number().int().min(0).optional(),
  deadLetterLimit: z.number().int().min(0).optional(),
  deadLetterByteLimit: z.number().int().min(0).optional(),
  finalEntityTtlMs: z.number().int().positive().optional(),
  operationTimeoutMs: z.number().int().positive().optional(),
});

const limits = z.strictObject({
  /** Records of one batch handed to the gatekeeper before the oldest must be decided. */
  maxInFlight: z.number().int().positive().default(1_000),
  /** Partitions whose batches are processed at the same time (kafkajs partitionsConsumedConcurrently). */
  partitionsConsumedConcurrently: z.number().int().positive().default(4),
  sessionTimeoutMs: z.number().int().positive().default(30_000),
  heartbeatIntervalMs: z.number().int().positive().default(3_000),
  rebalanceTimeoutMs: z.number().int().positive().default(60_000),
  /** Most bytes fetched per partition per request. */
  maxBytesPerPartition: z.number().int().positive().default(1_048_576),
  /**
   * Outbox / dead-letter rows read per relay round (produced 1,000 per request). On Redis a read
   * costs about twice the rows it returns (it pages through the shards, see shard-reads.ts), so a
   * large round mostly saves round trips while a backlog drains.
   */
  relayBatchSize: z.number().int().positive().default(5_000),
  /** How long an idle relay waits before looking at the store again (it is also woken by decisions). */
  relayIdleMs: z.number().int().positive().default(200),
  /** Longest back-off of a relay whose store or producer fails. */
  relayMaxBackoffMs: z.number().int().positive().default(5_000),
  /** How long `stop()` waits for the relays to publish what is left before giving up (it is published after the next start). */
  shutdownTimeoutMs: z.number().int().positive().default(30_000),
  /** Consumer offsets are committed at least this often (ms). */
  commitIntervalMs: z.number().int().positive().default(1_000),
  /** Live entity actors kept in memory (gatekeeper maxResidentEntities). */
  maxResidentEntities: z.number().int().positive().optional(),
});

/** The machines: a module path (.ts/.mjs/.js) or, from code, the registry itself. */
const machines = z.union([
  z.string().min(1),
  z.custom<MachineRegistryInput>(
    (value) => typeof value === 'object' && value !== null && !Array.isArray(value),
    {
      message: 'machines must be a module path or an object mapping aggregate names to machines',
    },
  ),
]);

export const runConfigSchema = z.strictObject({
  machines,
  brokers: brokerList,
  clientId: z.string().min(1).default('gatekeeper'),
  groupId: z.string().min(1),
  topics: z.strictObject({
    input: topicList,
    /**
     * Where applied transitions are published, or `false` for no output topic: a transition
     * handler (`runGatekeeper(config, { onTransition })`) is then the only effect.
     */
    output: z.union([z.string().min(1), z.literal(false)]),
    deadLetter: z.string().min(1),
  }),
  ssl: z.union([z.boolean(), tlsOptions]).optional(),
  sasl: sasl.optional(),
  /** A redis:// URL or store options; absent: the in-memory store (single process, nothing survives a restart). */
  redis: z
    .union([
      z.string().regex(/^rediss?:\/\//, 'redis must be a redis:// or rediss:// URL, or an options object'),
      redisOptions,
    ])
    .optional(),
  /**
   * How the output and dead-letter topics are written with a shared Redis store: `exactly-once`
   * publishes each owned partition's rows through a Kafka transaction that also records how far it
   * got (a `read_committed` consumer sees every row once, through crashes and zombies);
   * `at-least-once` (default) sends plainly (consumers drop duplicates by the gatekeeper-id header).
   * Without Redis (the in-memory store) publishing is at-least-once.
   */
  delivery: z.enum(['at-least-once', 'exactly-once']).default('at-least-once'),
  /** Where a new consumer group starts: the earliest offset (default) or only new records. */
  fromBeginning: z.boolean().default(true),
  /** Create missing topics at start with this many partitions (replication factor 1 unless given). */
  createTopics: z
    .union([
      z.boolean(),
      z.strictObject({
        partitions: z.number().int().positive().optional(),
        replicationFactor: z.number().int().positive().optional(),
      }),
    ])
    .default(false),
  limits: limits.default(() => limits.parse({})),
});

/** What you pass to `runGatekeeper` (defaults may be left out). */
export type RunConfigInput = z.input<typeof runConfigSchema>;
/** The validated configuration, defaults filled in. */
export type RunConfig = z.output<typeof runConfigSchema>;
export type RunLimits = RunConfig['limits'];

/** Validates a configuration; throws InvalidConfigError naming every bad field. */
export function parseRunConfig(input: unknown): RunConfig {
  const result = runConfigSchema.safeParse(input);
  if (result.success) return result.data;
  throw new InvalidConfigError(
    `invalid gatekeeper run configuration: ${formatIssues(result.error)}`,
    result.error,
  );
}

/** The output and dead-letter topics with what each is for (no output topic when it is turned off). */
export function publishedTopics(config: RunConfig): Array<['output' | 'dead-letter', string]> {
  return [
    ...(config.topics.output === false ? [] : [['output', config.topics.output] as ['output', string]]),
    ['dead-letter', config.topics.deadLetter],
  ];
}
