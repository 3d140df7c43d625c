/**
 * The CLI through a machine change on Redis: `check` under v1 leaves an entity in a state v2
 * renames; `versions` (the dry run, read-only) counts it as held, and as migrating once v2 has a
 * migration; `check` under v2 holds it instead of crashing; `inspect` says why; `migrate` drains it.
 * `analyze` prints each aggregate's version.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Redis } from 'ioredis';
import { afterAll, describe, expect, it } from 'vitest';
import { runCli as run } from '../../support/cli-io.ts';
import { sequenced } from '../../support/events.ts';
import { countPrefixKeys, deletePrefix, REDIS_URL, uniquePrefix } from './support/redis-servers.ts';

const fixture = (name: string) =>
  fileURLToPath(new URL(`../../fixtures/versions/ticket-${name}.ts`, import.meta.url));

describe('changing a machine with the CLI on Redis', () => {
  const prefix = uniquePrefix('cli-versions');
  const redis = ['--redis', REDIS_URL, '--redis-prefix', prefix];
  const dir = mkdtempSync(join(tmpdir(), 'gk-versions-'));
  const admin = new Redis(REDIS_URL);
  afterAll(async () => {
    await deletePrefix(admin, prefix);
    await admin.quit();
    rmSync(dir, { recursive: true, force: true });
  });
  const file = (name: string, events: object[]) => {
    const path = join(dir, name);
    writeFileSync(path, events.map((e) => JSON.stringify(e)).join('\n'));
    return path;
  };
  const ticket = sequenced('ticket', 'k1');
  const other = sequenced('ticket', 'k2');

  it('analyze prints the version; versions dry-runs the change read-only; check holds, inspect explains, migrate drains', async () => {
    const analyzed = await run(['analyze', '--machines', fixture('v1')]);
    expect(analyzed.stdout).toMatch(/version: 1\n/);
    expect((await run(['analyze', '--machines', 'machines/index.ts'])).stdout).toMatch(
      /version: fp-[0-9a-f]{16} \(fingerprint/,
    );

    const v1Events = file('v1.ndjson', [
      ticket(1, 'ticket.opened'),
      ticket(2, 'ticket.assigned'),
      other(1, 'ticket.opened'),
    ]);
    expect((await run(['check', '--machines', fixture('v1'), v1Events, ...redis])).code).toBe(0);

    const keysBefore = await countPrefixKeys(admin, prefix);
    const dry = await run(['versions', '--machines', fixture('v2'), '--list', ...redis]);
    expect(dry.code).toBe(0);
    expect(dry.stdout).toContain('ticket: version 2');
    expect(dry.stdout).toContain('stored    2 on 1');
    expect(dry.stdout).toContain('0 stay current, 1 carry on, 0 migrate, 1 be held');
    expect(dry.stdout).toContain('held      1 incompatible-snapshot');
    expect(dry.stdout).toMatch(/k1 {2}1 → held \(incompatible-snapshot\)/);
    const withMigration = await run(['versions', '--machines', fixture('v2Migrated'), '--json', ...redis]);
    expect(JSON.parse(withMigration.stdout)).toMatchObject({
      aggregate: 'ticket',
      counts: { migrate: 2, held: 0 },
    });
    expect(await countPrefixKeys(admin, prefix)).toBe(keysBefore);

    // Deployed without the migration: the event waits, nothing crashes.
    const v2Events = file('v2.ndjson', [ticket(3, 'ticket.resolved')]);
    const checked = await run(['check', '--machines', fixture('v2'), v2Events, ...redis]);
    expect(checked.code).toBe(0);
    expect(JSON.parse(checked.stdout)).toMatchObject({ outcome: 'buffered', reason: 'entity-held' });
    const inspected = await run(['inspect', 'ticket', 'k1', '--machines', fixture('v2'), ...redis]);
    expect(inspected.stdout).toMatch(/held {6}incompatible-snapshot/);
    expect(inspected.stdout).toMatch(/machine {3}version 1 \(this process runs 2\)/);
    expect((await run(['stalled', '--parked', '--machines', fixture('v2'), ...redis])).stdout.trim()).toBe(
      'ticket/k1  held: incompatible-snapshot',
    );
    const refused = await run(['migrate', 'ticket', 'k1', '--machines', fixture('v2'), ...redis]);
    expect(refused.code).toBe(1);
    expect(refused.stderr).toMatch(/still held \(incompatible-snapshot\)/);

    const migrated = await run(['migrate', 'ticket', '--machines', fixture('v2Migrated'), ...redis]);
    expect(migrated.code).toBe(0);
    expect(migrated.stdout).toMatch(/applied\s+ticket\.resolved seq 3 → resolved \(drained\)/);
    expect((await run(['stalled', '--parked', '--machines', fixture('v2Migrated'), ...redis])).stdout).toBe(
      '',
    );
  });
});
