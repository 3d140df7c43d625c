/**
 * The read model: one row per entity with its current state, kept in PostgreSQL. Every transition
 * is applied in one PostgreSQL transaction together with a row in `applied_effects` keyed by the
 * transition's idempotency key, so a transition handed over again (the process died after the
 * commit here but before gatekeeper recorded the effect as done) finds its key and changes nothing.
 */
import type { AppliedTransition } from 'gatekeeper';
import type { Pool, PoolClient } from 'pg';

/**
 * Creates the tables when they are missing; safe to run on every start and from several processes
 * at once (the advisory lock keeps two first starts from racing on CREATE TABLE).
 */
export async function createSchema(pool: Pool): Promise<void> {
  await withTransaction(pool, async (client) => {
    await client.query('SELECT pg_advisory_xact_lock(hashtext($1))', ['gatekeeper-read-model-schema']);
    await client.query(`
      CREATE TABLE IF NOT EXISTS entity_state (
        aggregate            text        NOT NULL,
        key                  text        NOT NULL,
        state                jsonb       NOT NULL,
        seq                  bigint      NOT NULL,
        transitions          integer     NOT NULL,
        last_event_type      text        NOT NULL,
        last_idempotency_key text        NOT NULL,
        updated_at           timestamptz NOT NULL DEFAULT now(),
        PRIMARY KEY (aggregate, key)
      )`);
    await client.query(`
      CREATE TABLE IF NOT EXISTS applied_effects (
        idempotency_key text        PRIMARY KEY,
        aggregate       text        NOT NULL,
        key             text        NOT NULL,
        seq             bigint      NOT NULL,
        applied_at      timestamptz NOT NULL DEFAULT now()
      )`);
  });
}

/** What `applyTransition` did: wrote it now, or found it written by an earlier attempt. */
export type ApplyResult = 'applied' | 'already-applied';

/**
 * Writes one transition into the read model, once: the idempotency key's row and the entity's row
 * commit together or not at all. It is one statement (a data-modifying CTE), so PostgreSQL runs it
 * as one transaction in one round trip: the entity row is written only when the key's row was
 * inserted now; a key committed by an earlier attempt inserts nothing and the entity row is left
 * alone. Two attempts at once serialise on the key's primary key. gatekeeper hands an entity's
 * transitions over one at a time and in order, so the entity row simply takes the transition's
 * state; `transitions` counts how many were applied (the end-to-end test compares it with the
 * in-order history).
 */
export async function applyTransition(
  pool: Pool,
  transition: AppliedTransition,
  idempotencyKey: string,
): Promise<ApplyResult> {
  const result = await pool.query(
    `WITH claimed AS (
       INSERT INTO applied_effects (idempotency_key, aggregate, key, seq)
       VALUES ($1, $2, $3, $4)
       ON CONFLICT (idempotency_key) DO NOTHING
       RETURNING idempotency_key
     )
     INSERT INTO entity_state AS current
       (aggregate, key, state, seq, transitions, last_event_type, last_idempotency_key, updated_at)
     SELECT $2, $3, $5::jsonb, $4, 1, $6, idempotency_key, now() FROM claimed
     ON CONFLICT (aggregate, key) DO UPDATE SET
       state = excluded.state,
       seq = excluded.seq,
       transitions = current.transitions + 1,
       last_event_type = excluded.last_event_type,
       last_idempotency_key = excluded.last_idempotency_key,
       updated_at = excluded.updated_at`,
    [
      idempotencyKey,
      transition.aggregate,
      transition.key,
      transition.seq,
      JSON.stringify(transition.state),
      transition.type,
    ],
  );
  return result.rowCount === 1 ? 'applied' : 'already-applied';
}

/**
 * Runs `work` inside BEGIN … COMMIT on a pooled connection; ROLLBACK on failure. A connection whose
 * transaction failed is discarded rather than returned to the pool (it may be broken mid-protocol).
 */
async function withTransaction<T>(pool: Pool, work: (client: PoolClient) => Promise<T>): Promise<T> {
  const client = await pool.connect();
  let failure: Error | undefined;
  try {
    await client.query('BEGIN');
    const result = await work(client);
    await client.query('COMMIT');
    return result;
  } catch (error) {
    failure = error instanceof Error ? error : new Error(String(error));
    await client.query('ROLLBACK').catch(() => undefined);
    throw error;
  } finally {
    client.release(failure);
  }
}
