/**
 * The example service's read-model writer (examples/postgres-read-model/read-model.ts) against a
 * real PostgreSQL: the schema is created idempotently, every idempotency key is applied once even
 * when handed over again or by several connections at once, and a failed write leaves neither the
 * key nor the entity row behind, so the handler's retry applies it.
 */
import pg from 'pg';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { AppliedTransition } from '../../../src/core/outcome.ts';
import { applyTransition, createSchema } from '../../../examples/postgres-read-model/read-model.ts';
import {
  createDatabase,
  postgresServer,
  type PostgresServer,
  type TestDatabase,
} from '../../support/postgres.ts';

let server: PostgresServer;
let database: TestDatabase | undefined;
let pool: pg.Pool | undefined;

beforeAll(async () => {
  server = await postgresServer();
}, 600_000);
afterAll(async () => {
  await server.stop();
});
afterEach(async () => {
  await pool?.end();
  pool = undefined;
  await database?.drop();
  database = undefined;
});

async function freshPool(name: string): Promise<pg.Pool> {
  database = await createDatabase(server, name);
  pool = new pg.Pool({ connectionString: database.url, max: 8 });
  // An idle client whose connection the server ends (the DROP DATABASE … WITH (FORCE) after each
  // test, when pool.end() has not closed every socket yet) is reported as the pool's 'error', which
  // without a listener is an uncaught exception. Queries still fail through their own promises.
  pool.on('error', () => undefined);
  return pool;
}

function transition(key: string, seq: number, type: string, state: string, from: string): AppliedTransition {
  return {
    id: `${key}-${seq}`,
    aggregate: 'shipment',
    key,
    seq,
    type,
    payload: {},
    from,
    state,
    time: undefined,
  };
}

const keyOf = (t: AppliedTransition) => `shipment/${t.key}/${t.seq}`;

async function rows(db: pg.Pool) {
  const entities = await db.query<{ key: string; state: unknown; seq: string; transitions: number }>(
    'SELECT key, state, seq, transitions FROM entity_state ORDER BY key',
  );
  const applied = await db.query<{ idempotency_key: string }>(
    'SELECT idempotency_key FROM applied_effects ORDER BY idempotency_key',
  );
  return { entities: entities.rows, applied: applied.rows.map((row) => row.idempotency_key) };
}

describe('the example read model on PostgreSQL', () => {
  it('creates its schema idempotently, also from several starts at once', async () => {
    const db = await freshPool('schema');
    await Promise.all([createSchema(db), createSchema(db), createSchema(db)]);
    await createSchema(db);
    const tables = await db.query<{ table_name: string }>(
      "SELECT table_name FROM information_schema.tables WHERE table_schema = 'public' ORDER BY table_name",
    );
    expect(tables.rows.map((row) => row.table_name)).toEqual(['applied_effects', 'entity_state']);
  });

  it('applies an entity’s transitions in order into one row and skips a transition handed over again', async () => {
    const db = await freshPool('in-order');
    await createSchema(db);
    const history = [
      transition('s1', 1, 'shipment.registered', 'registered', 'new'),
      transition('s1', 2, 'shipment.picked-up', 'inTransit', 'registered'),
      transition('s1', 3, 'shipment.scanned', 'inTransit', 'inTransit'),
      transition('s1', 4, 'shipment.delivered', 'delivered', 'inTransit'),
    ];
    const results = [];
    for (const t of history) results.push(await applyTransition(db, t, keyOf(t)));
    // A restart re-runs the last two (their completion was not recorded before the crash).
    for (const t of history.slice(2)) results.push(await applyTransition(db, t, keyOf(t)));
    expect(results).toEqual([
      'applied',
      'applied',
      'applied',
      'applied',
      'already-applied',
      'already-applied',
    ]);
    expect(await rows(db)).toEqual({
      entities: [{ key: 's1', state: 'delivered', seq: '4', transitions: 4 }],
      applied: history.map(keyOf),
    });
  });

  it('applies a key once when several connections hand it over at the same time', async () => {
    const db = await freshPool('concurrent');
    await createSchema(db);
    const t = transition('s2', 1, 'shipment.registered', 'registered', 'new');
    const results = await Promise.all(Array.from({ length: 8 }, () => applyTransition(db, t, keyOf(t))));
    expect(results.filter((result) => result === 'applied')).toHaveLength(1);
    expect(results.filter((result) => result === 'already-applied')).toHaveLength(7);
    expect((await rows(db)).entities).toEqual([{ key: 's2', state: 'registered', seq: '1', transitions: 1 }]);
  });

  it('leaves neither the key nor the entity row behind when the write fails, so the retry applies it', async () => {
    const db = await freshPool('rollback');
    await createSchema(db);
    // jsonb refuses \u0000: the write fails at the entity row, in the statement that also inserts the key.
    const broken = transition('s3', 1, 'shipment.registered', 'registered\u0000', 'new');
    await expect(applyTransition(db, broken, keyOf(broken))).rejects.toThrow(/unicode|\\u0000/i);
    expect(await rows(db)).toEqual({ entities: [], applied: [] });
    const good = transition('s3', 1, 'shipment.registered', 'registered', 'new');
    expect(await applyTransition(db, good, keyOf(good))).toBe('applied');
    expect(await rows(db)).toEqual({
      entities: [{ key: 's3', state: 'registered', seq: '1', transitions: 1 }],
      applied: ['shipment/s3/1'],
    });
  });
});
