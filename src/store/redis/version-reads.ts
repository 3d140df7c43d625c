/**
 * The store's read-only views for machine versions: the per-shard versions hashes (which
 * aggregates and versions have committed entities) and a scan over one aggregate's entities for
 * the dry run of a machine change. Plain read commands only (SCAN, HGETALL), so they work on a
 * replica and for a read-only user.
 */
import { Cluster } from 'ioredis';
import type { ScannedEntity, StoredVersion } from '../entity-store.ts';
import { decodeEntity } from './codec.ts';
import { decodeEntityId, parseVersionField, type KeySpace } from './keys.ts';
import type { RedisClient } from './scripts.ts';

/** Sums every shard's versions hash into one row per aggregate and version. */
export async function readVersions(client: RedisClient, keys: KeySpace): Promise<StoredVersion[]> {
  const hashes = await Promise.all(
    Array.from({ length: keys.shards }, (_, shard) => client.hgetall(keys.shard(shard).versions)),
  );
  const rows = new Map<string, StoredVersion>();
  for (const hash of hashes) {
    for (const [field, value] of Object.entries(hash)) {
      const kind = field.slice(0, 2);
      const parsed = parseVersionField(field.slice(2));
      if ((kind !== 'c:' && kind !== 'f:') || !parsed) continue;
      const id = field.slice(2);
      let row = rows.get(id);
      if (!row) {
        row = { ...parsed, entities: 0, firstSeenAt: Number.POSITIVE_INFINITY };
        rows.set(id, row);
      }
      if (kind === 'c:') row.entities += Number(value) || 0;
      else row.firstSeenAt = Math.min(row.firstSeenAt, Number(value) || 0);
    }
  }
  return [...rows.values()].map((row) =>
    Number.isFinite(row.firstSeenAt) ? row : { ...row, firstSeenAt: 0 },
  );
}

/** Visits every stored entity of `aggregate`: SCAN over each node's keys, HGETALL in pages. */
export async function scanEntities(
  client: RedisClient,
  keys: KeySpace,
  aggregate: string,
  visit: (entity: ScannedEntity) => void,
): Promise<void> {
  const nodes = client instanceof Cluster ? client.nodes('master') : [client];
  // Glob characters in the prefix are escaped; braces are not special to MATCH.
  const pattern = `{${globEscape(keys.prefix)}:*}:e:*`;
  const shape = new RegExp(`^\\{${regexEscape(keys.prefix)}:\\d+\\}:e:`);
  for (const node of nodes) {
    let cursor = '0';
    do {
      const [next, found] = await node.scan(cursor, 'MATCH', pattern, 'COUNT', 500);
      cursor = next;
      const mine = found.flatMap((key) => {
        if (!shape.test(key)) return [];
        const ref = decodeEntityId(key.slice(key.indexOf('}:e:') + 4));
        return ref && ref.aggregate === aggregate ? [{ key, ref }] : [];
      });
      const hashes = await Promise.all(mine.map(({ key }) => client.hgetall(key)));
      hashes.forEach((fields, index) => {
        const { ref } = mine[index] as (typeof mine)[number];
        try {
          const stored = decodeEntity(fields, `${ref.aggregate}/${ref.key}`);
          if (stored) visit({ key: ref.key, stored });
        } catch (error) {
          visit({ key: ref.key, error: error instanceof Error ? error : new Error(String(error)) });
        }
      });
    } while (cursor !== '0');
  }
}

function globEscape(text: string): string {
  return text.replace(/[*?[\]\\]/g, (c) => `\\${c}`);
}

function regexEscape(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, (c) => `\\${c}`);
}
