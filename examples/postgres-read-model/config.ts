/**
 * The service's settings, from the environment so the same code runs on a laptop and in a
 * deployment. Only KAFKA_BROKERS, REDIS_URL and PG_URL have no default.
 */
import type { RunConfigInput } from 'gatekeeper/kafka';
import { machines } from './machines.ts';

export interface ServiceConfig {
  /** PostgreSQL connection string of the read model's database. */
  pgUrl: string;
  /** Connections the handler may use at once (the effects' concurrency is capped to it). */
  pgPoolSize: number;
  gatekeeper: RunConfigInput;
}

function required(env: NodeJS.ProcessEnv, name: string): string {
  const value = env[name];
  if (value === undefined || value === '') throw new Error(`${name} is not set`);
  return value;
}

export function configFromEnv(env: NodeJS.ProcessEnv = process.env): ServiceConfig {
  const name = env.SERVICE_NAME ?? 'shipment-read-model';
  const pgPoolSize = Number(env.PG_POOL_SIZE ?? 16);
  if (!Number.isInteger(pgPoolSize) || pgPoolSize < 1)
    throw new Error('PG_POOL_SIZE must be a positive integer');
  return {
    pgUrl: required(env, 'PG_URL'),
    pgPoolSize,
    gatekeeper: {
      machines,
      brokers: required(env, 'KAFKA_BROKERS'),
      clientId: name,
      groupId: env.GROUP_ID ?? name,
      topics: {
        input: env.INPUT_TOPIC ?? 'shipments',
        // No output topic unless one is named: the handler is the service's only effect.
        output: env.OUTPUT_TOPIC ?? false,
        deadLetter: env.DEAD_LETTER_TOPIC ?? `${name}-dead-letters`,
      },
      // Effects survive a crash only with a durable store: the handler's progress is kept in Redis.
      redis: { url: required(env, 'REDIS_URL'), prefix: env.REDIS_PREFIX ?? name },
      // How soon the group notices a member that died (Kafka's default is 30 s); heartbeats at a third.
      ...(env.KAFKA_SESSION_TIMEOUT_MS
        ? {
            limits: {
              sessionTimeoutMs: Number(env.KAFKA_SESSION_TIMEOUT_MS),
              heartbeatIntervalMs: Math.max(100, Math.floor(Number(env.KAFKA_SESSION_TIMEOUT_MS) / 3)),
            },
          }
        : {}),
    },
  };
}
