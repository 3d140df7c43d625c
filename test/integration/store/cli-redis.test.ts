/**
 * The CLI on the Redis store: --redis on check (state survives between runs), and the operator
 * commands inspect, stalled, retry and skip reading and changing what a gatekeeper stored.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { runCli } from '../../support/cli-io.ts';
import { sequenced } from '../../support/events.ts';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { deletePrefix, REDIS_URL, uniquePrefix } from './support/redis-servers.ts';

const run = runCli;

const ndjson = (events: object[]) => events.map((e) => JSON.stringify(e)).join('\n');
const STALL_MACHINES = fileURLToPath(new URL('./support/stall-machines.ts', import.meta.url));

describe('the CLI on the Redis store', () => {
  const prefix = uniquePrefix('cli');
  const redis = ['--redis', REDIS_URL, '--redis-prefix', prefix];
  const dir = mkdtempSync(join(tmpdir(), 'gk-cli-'));
  const file = (name: string, events: object[]) => {
    const path = join(dir, name);
    writeFileSync(path, ndjson(events));
    return path;
  };
  let admin: Redis;
  beforeAll(() => {
    admin = new Redis(REDIS_URL);
  });
  afterAll(async () => {
    await deletePrefix(admin, prefix);
    await admin.quit();
    rmSync(dir, { recursive: true, force: true });
  });

  const order = sequenced('order', 'o1');
  const customer = sequenced('customer', 'c1');

  it('check --redis continues where the previous run stopped, and replaying a processed file yields only discarded duplicates', async () => {
    const first = file('first.ndjson', [order(1, 'order.placed', { total: 5 }), order(3, 'order.shipped')]);
    const second = file('second.ndjson', [order(2, 'order.paid', { amount: 5 })]);
    expect((await run(['check', first, ...redis])).code).toBe(0);
    const continued = await run(['check', second, ...redis]);
    expect(
      continued.stdout
        .trim()
        .split('\n')
        .map((l) => (JSON.parse(l) as { outcome: string; state: string }).state),
    ).toEqual(['paid', 'shipped']);
    const replay = await run(['check', first, ...redis]);
    expect(
      replay.stdout
        .trim()
        .split('\n')
        .map((l) => (JSON.parse(l) as { outcome: string }).outcome),
    ).toEqual(['discarded', 'discarded']);
  });

  it('inspect prints the stored entity, as text and as JSON; an unknown entity exits 1', async () => {
    const text = await run(['inspect', 'order', 'o1', ...redis]);
    expect(text.code).toBe(0);
    expect(text.stdout).toMatch(/state\s+shipped/);
    expect(text.stdout).toMatch(/seq\s+3/);
    const json = await run(['inspect', 'order', 'o1', '--json', ...redis]);
    expect(JSON.parse(json.stdout)).toMatchObject({
      aggregate: 'order',
      key: 'o1',
      state: 'shipped',
      lastSeq: 3,
      buffered: [],
    });
    const missing = await run(['inspect', 'order', 'nope', ...redis]);
    expect(missing.code).toBe(1);
    expect(missing.stderr).toContain('no entity order/nope');
  });

  it('stalled lists entities whose buffered events waited past the limit, and --parked the parked ones', async () => {
    await run([
      'check',
      file('gap.ndjson', [
        { id: 'o2-5', aggregate: 'order', key: 'o2', seq: 5, type: 'order.shipped', payload: {} },
      ]),
      ...redis,
    ]);
    const stalled = await run(['stalled', '--json', '--machines', STALL_MACHINES, ...redis]);
    expect(stalled.code).toBe(0);
    expect(
      stalled.stdout
        .trim()
        .split('\n')
        .map((l) => JSON.parse(l) as object),
    ).toEqual([expect.objectContaining({ aggregate: 'order', key: 'o2', stallAfterMs: 1 })]);
    expect((await run(['stalled', '--parked', ...redis])).stdout).toBe('');
  });

  it('retry and skip act on a parked entity and drain what waited; on an entity that is not parked they exit 1', async () => {
    const events = [
      customer(1, 'customer.created', { name: 'Ada', email: 'ada@example.com' }),
      customer(2, 'customer.activated'),
      customer(3, 'customer.billing-details.added', { iban: 'DE89370400440532013000' }),
    ];
    await run(['check', file('customer.ndjson', events), ...redis]);
    expect((await run(['stalled', '--parked', ...redis])).stdout.trim()).toBe('customer/c1');
    const inspected = await run(['inspect', 'customer', 'c1', ...redis]);
    expect(inspected.stdout).toMatch(/parked\s+on customer\.activated/);

    const retried = await run(['retry', 'customer', 'c1', '--json', ...redis]);
    expect(retried.code).toBe(0);
    expect(JSON.parse(retried.stdout.trim()) as object).toMatchObject({
      id: 'c1-2',
      outcome: 'rejected',
      parked: true,
    });

    const skipped = await run(['skip', 'customer', 'c1', ...redis]);
    expect(skipped.code).toBe(0);
    expect(skipped.stdout).toMatch(/applied\s+customer\.billing-details\.added seq 3 → billable/);
    expect((await run(['stalled', '--parked', ...redis])).stdout).toBe('');

    const again = await run(['skip', 'customer', 'c1', ...redis]);
    expect(again.code).toBe(1);
    expect(again.stderr).toContain('is not parked');
  });

  it('fails with the reason, and does not hang, when Redis cannot be reached', async () => {
    const down = await run(['inspect', 'order', 'o1', '--redis', 'redis://127.0.0.1:1']);
    expect(down.code).toBe(1);
    expect(down.stderr).toContain('ECONNREFUSED');
    const usage = await run(['inspect', 'order', 'o1', '--redis-prefix', 'x']);
    expect(usage.code).toBe(2);
  });
});
