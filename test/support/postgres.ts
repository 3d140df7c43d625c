/**
 * A real PostgreSQL for the tests, through scripts/postgres/*.sh: PG_URL when set (scripts/test.sh
 * sets it), otherwise a throw-away cluster started here for the test file. Each test gets a
 * database of its own, dropped afterwards.
 */
import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import pg from 'pg';
import { parseScriptOutput } from '../../scripts/script-output.ts';

const run = promisify(execFile);
const SCRIPTS = fileURLToPath(new URL('../../scripts/postgres/', import.meta.url));

export interface PostgresServer {
  /** A superuser URL of the server's `postgres` database. */
  url: string;
  /** Stops the cluster when this file started it; nothing for a server given in PG_URL. */
  stop(): Promise<void>;
}

/** PG_URL when set, else a cluster started for this test file. */
export async function postgresServer(): Promise<PostgresServer> {
  const given = process.env.PG_URL;
  if (given) return { url: given, stop: () => Promise.resolve() };
  const env = { ...process.env };
  delete env.PG_PORT;
  delete env.PG_RUN_DIR;
  const { stdout } = await run('bash', [`${SCRIPTS}start-postgres.sh`], { env, timeout: 600_000 });
  const out = parseScriptOutput(stdout);
  const url = out.PG_URL;
  const dir = out.PG_RUN_DIR;
  if (!url || !dir) throw new Error(`start-postgres.sh printed no PG_URL/PG_RUN_DIR:\n${stdout}`);
  return {
    url,
    stop: async () => {
      await run('bash', [`${SCRIPTS}stop-postgres.sh`, dir], { timeout: 120_000 });
    },
  };
}

export interface TestDatabase {
  url: string;
  name: string;
  drop(): Promise<void>;
}

/** Creates a database no other test uses on `server` and returns its URL. */
export async function createDatabase(server: PostgresServer, name: string): Promise<TestDatabase> {
  const database = `gk_${name.replace(/[^a-z0-9]/gi, '_').toLowerCase()}_${process.pid}_${randomBytes(3).toString('hex')}`;
  await admin(server, `CREATE DATABASE ${database}`);
  const url = new URL(server.url);
  url.pathname = `/${database}`;
  return {
    url: url.toString(),
    name: database,
    drop: () => admin(server, `DROP DATABASE IF EXISTS ${database} WITH (FORCE)`),
  };
}

async function admin(server: PostgresServer, sql: string): Promise<void> {
  const client = new pg.Client({ connectionString: server.url });
  await client.connect();
  try {
    await client.query(sql);
  } finally {
    await client.end();
  }
}
