/**
 * The example service (examples/postgres-read-model) as a user runs it: installed from the packed
 * package into a project of its own, consuming a shuffled, duplicated shipment stream on a real
 * broker and Redis, writing into a real PostgreSQL, SIGKILLed twice at random points mid-stream
 * and started again each time. Afterwards its table equals in-order processing: one row per
 * shipment with the state and seq of its last legal transition, and every legal transition
 * applied exactly once (one idempotency key each, none missing, none extra).
 */
import { cpSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import pg from 'pg';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { buildAggregates } from '../../src/core/aggregate.ts';
import { inOrderReference } from '../../src/demo/in-order-reference.ts';
import { transitionIdentity } from '../../src/kafka/output-records.ts';
import { machines } from '../../examples/postgres-read-model/machines.ts';
import { shipmentStream, type ShipmentStream } from '../../examples/postgres-read-model/stream.ts';
import {
  committedTotal,
  eventMessage,
  produce,
  sharedBroker,
  type Broker,
} from '../integration/kafka/support/kafka.ts';
import { startProcess, type GatekeeperProcess } from '../integration/kafka/support/processes.ts';
import { setUp, waitFor, type TestSetup } from '../integration/kafka/support/runtime.ts';
import { REDIS_URL } from '../integration/store/support/redis-servers.ts';
import {
  createDatabase,
  postgresServer,
  type PostgresServer,
  type TestDatabase,
} from '../support/postgres.ts';
import { installProject, packPackage, type PackedPackage } from '../support/packed-package.ts';

const run = promisify(execFile);
const EXAMPLE = fileURLToPath(new URL('../../examples/postgres-read-model/', import.meta.url));

let broker: Broker;
let server: PostgresServer;
let packed: PackedPackage | undefined;
let project: string | undefined;
let setup: TestSetup | undefined;
let database: TestDatabase | undefined;
const services: GatekeeperProcess[] = [];

beforeAll(async () => {
  [broker, server, packed] = await Promise.all([sharedBroker(), postgresServer(), packPackage()]);
  project = mkdtempSync(join(tmpdir(), 'gatekeeper-example-pg-'));
  // The example's own files, without whatever a local `npm install` left in its folder.
  cpSync(EXAMPLE, project, { recursive: true, filter: (source) => !source.includes('node_modules') });
  const manifest = JSON.parse(readFileSync(join(EXAMPLE, 'package.json'), 'utf8')) as {
    dependencies: Record<string, string>;
  };
  manifest.dependencies.gatekeeper = `file:${packed.tarball}`;
  await installProject(project, manifest);
}, 600_000);

afterAll(async () => {
  for (const service of services) service.kill('SIGKILL');
  await Promise.all(services.map((service) => service.exited));
  try {
    await setup?.cleanup();
    await database?.drop();
  } finally {
    if (project) rmSync(project, { recursive: true, force: true });
    packed?.remove();
    await Promise.all([broker?.stop(), server?.stop()]);
  }
}, 120_000);

interface ExpectedRow {
  key: string;
  state: unknown;
  seq: string;
  transitions: number;
  last_idempotency_key: string;
}

/** Each shipment's history applied in seq order, once, with XState's pure functions (no gatekeeper). */
function inOrder(stream: ShipmentStream): { rows: ExpectedRow[]; keys: string[] } {
  const aggregate = buildAggregates(machines).get('shipment');
  if (!aggregate) throw new Error('no shipment aggregate');
  const rows: ExpectedRow[] = [];
  const keys: string[] = [];
  for (const history of stream.histories) {
    const reference = inOrderReference(aggregate, history);
    const applied = reference.applied.map((id) => history.find((event) => event.id === id)!);
    const identities = applied.map((event) => transitionIdentity(event));
    keys.push(...identities);
    rows.push({
      key: history[0]!.key,
      state: reference.state,
      seq: String(applied.at(-1)!.seq),
      transitions: applied.length,
      last_idempotency_key: identities.at(-1)!,
    });
  }
  return { rows: rows.sort((a, b) => (a.key < b.key ? -1 : 1)), keys: keys.sort() };
}

it('type-checks as a strict TypeScript project against the installed package', async () => {
  await run('npx', ['--no-install', 'tsc', '-p', '.'], { cwd: project });
}, 120_000);

it('killed with SIGKILL twice mid-stream and restarted, the service’s PostgreSQL table ends equal to in-order processing, every transition applied exactly once', async () => {
  const stream = shipmentStream({
    shipments: 1_200,
    seed: 20_261_201,
    duplicateRate: 0.15,
    illegalRate: 0.05,
  });
  const expected = inOrder(stream);
  setup = await setUp(broker.brokers, 'example-pg', 6);
  database = await createDatabase(server, 'example');
  const env = {
    NODE_OPTIONS: '',
    SERVICE_NAME: 'example-pg-e2e',
    KAFKA_BROKERS: setup.brokers,
    REDIS_URL,
    REDIS_PREFIX: setup.prefix,
    PG_URL: database.url,
    INPUT_TOPIC: setup.input,
    DEAD_LETTER_TOPIC: setup.deadLetter,
    GROUP_ID: setup.group,
    KAFKA_SESSION_TIMEOUT_MS: '6000',
  };
  const start = (name: string) => {
    const service = startProcess(name, ['--import', 'tsx', 'service.ts'], {
      cwd: project!,
      env,
      readyText: 'read model: consuming',
    });
    services.push(service);
    return service;
  };
  const db = new pg.Pool({ connectionString: database.url, max: 2 });
  // An idle client ended by the database's drop at the end is the pool's 'error' (uncaught without a listener).
  db.on('error', () => undefined);
  try {
    const applied = async () =>
      Number((await db.query<{ n: string }>('SELECT count(*) AS n FROM applied_effects')).rows[0]?.n ?? 0);
    let service = start('service-1');
    await service.consuming;

    const messages = stream.events.map(eventMessage);
    const producing = (async () => {
      for (let at = 0; at < messages.length; at += 300) {
        await produce(setup.brokers, setup.input, messages.slice(at, at + 300));
        await new Promise((resolve) => setTimeout(resolve, 100));
      }
    })();
    const total = expected.keys.length;
    // Two kills at random points: one in the first half of the transitions, one in the second.
    const killAt = [0.1 + Math.random() * 0.35, 0.55 + Math.random() * 0.3].map((share) =>
      Math.floor(share * total),
    );
    const killed: number[] = [];
    for (const [index, target] of killAt.entries()) {
      await waitFor(
        `${target} of ${total} transitions in PostgreSQL`,
        async () => (await applied()) >= target,
        90_000,
      );
      service.kill('SIGKILL');
      expect((await service.exited).signal).toBe('SIGKILL');
      killed.push(await applied());
      service = start(`service-${index + 2}`);
      await service.consuming;
    }
    await producing;
    await waitFor('every transition in PostgreSQL', async () => (await applied()) >= total, 120_000);
    await waitFor(
      'the group to commit every input record',
      async () => (await committedTotal(setup!.brokers, setup!.group, setup!.input)) >= messages.length,
      60_000,
    );
    service.kill('SIGTERM');
    const exit = await service.exited;
    expect(exit.code, service.log()).toBe(0);

    const rows = await db.query<ExpectedRow>(
      'SELECT key, state, seq, transitions, last_idempotency_key FROM entity_state ORDER BY key COLLATE "C"',
    );
    const keys = await db.query<{ idempotency_key: string }>(
      'SELECT idempotency_key FROM applied_effects ORDER BY idempotency_key COLLATE "C"',
    );
    const redelivered = services.map((s) => (s.log().match(/already applied/g) ?? []).length);
    console.log(
      `example-postgres: ${messages.length} records for ${stream.histories.length} shipments, ${total} transitions; ` +
        `SIGKILLed at ${killed.join(' and ')} applied; already-applied keys skipped per run: ${redelivered.join(', ')}`,
    );
    expect(rows.rows).toHaveLength(stream.histories.length);
    expect(rows.rows).toEqual(expected.rows);
    expect(keys.rows.map((row) => row.idempotency_key)).toEqual(expected.keys);
  } finally {
    await db.end();
  }
}, 240_000);
