/**
 * `gatekeeper reshard`: moves a Redis namespace's entities to a new shard layout, offline. With
 * Kafka the store keeps one shard per input partition, so after the input topics' partition count
 * changed (or to take over a namespace made with the library's hash shards) every member refuses
 * to start until this has run.
 */
import { EXIT, intFlag, stringFlag, write, type Command } from '../command.ts';
import { STORE_USAGE, storeOptions } from '../open-store.ts';
import { UsageError } from '../usage-error.ts';

export const reshardCommand: Command = {
  name: 'reshard',
  usage: `Usage: gatekeeper reshard --partitions N (--redis <url> | --redis-cluster <list>) [--redis-prefix <p>]
       gatekeeper reshard --hash-shards N (--redis <url> | --redis-cluster <list>) [--redis-prefix <p>]

Moves every entity of the namespace to the shard the new layout gives it and records the layout.
--partitions N: one shard per input partition, as \`gatekeeper run\` keeps it (N = the input topics'
partition count). --hash-shards N: the library's hash shards. Stop every gatekeeper process on the
prefix first. Refused while outbox or dead-letter rows wait to be published: run the gatekeeper
with the old partition count until its backlog is 0, stop it, then re-shard.

${STORE_USAGE}`,
  options: {
    partitions: { type: 'string' },
    'hash-shards': { type: 'string' },
    ...storeOptions,
  },
  positionals: false,
  async run(flags, _positionals, io) {
    const partitions = stringFlag(flags, 'partitions');
    const hashShards = stringFlag(flags, 'hash-shards');
    if ((partitions === undefined) === (hashShards === undefined))
      throw new UsageError('give --partitions N or --hash-shards N');
    const url = stringFlag(flags, 'redis');
    const nodes = stringFlag(flags, 'redis-cluster');
    if ((url === undefined) === (nodes === undefined))
      throw new UsageError('give --redis <url> or --redis-cluster <list>');
    const target =
      partitions !== undefined
        ? { shards: intFlag(flags, 'partitions', 1), sharding: 'kafka-partitions' as const }
        : { shards: intFlag(flags, 'hash-shards', 1), sharding: 'hash' as const };
    const { Cluster, Redis } = await import('ioredis');
    const { reshard } = await import('../../store/redis/reshard.ts');
    const { DEFAULT_PREFIX } = await import('../../store/redis/keys.ts');
    const client =
      url !== undefined
        ? new Redis(url, { maxRetriesPerRequest: 2 })
        : new Cluster((nodes as string).split(',').filter((node) => node !== ''));
    try {
      const report = await reshard(client, stringFlag(flags, 'redis-prefix') ?? DEFAULT_PREFIX, target);
      write(
        io.stdout,
        `re-sharded ${report.entities} entities (${report.moved} moved) from ${report.from.shards} ${report.from.sharding} shards to ${report.to.shards} ${report.to.sharding} shards`,
      );
      return EXIT.ok;
    } finally {
      client.disconnect();
    }
  },
};
