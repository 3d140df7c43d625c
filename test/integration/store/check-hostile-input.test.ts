/**
 * `check` fed hostile bytes — lines of tens of megabytes, hundreds of near-megabyte garbage lines,
 * payloads nested thousands of levels deep, invalid UTF-8 — on the embedded store and on Redis:
 * every line gets its outcome, nothing crashes, and the process's peak RSS and Redis' memory stay
 * bounded far below the input's size (bounds, not timing).
 */
import { execFile } from 'node:child_process';
import { closeSync, mkdtempSync, openSync, rmSync, writeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startOwnRedis, type OwnRedis } from './support/redis-servers.ts';

const run = promisify(execFile);
const CLI = fileURLToPath(new URL('./support/cli-with-rss.ts', import.meta.url));
const MB = 1_048_576;
const HUGE_LINES = 3;
const HUGE_BYTES = 24 * MB;
const GARBAGE_LINES = 200;
const GARBAGE_BYTES = 900 * 1_024;
/** Peak RSS allowed: the CLI alone peaks at ~180 MB here; the input is ~250 MB. */
const MAX_RSS_MB = 300;

/** Writes the hostile stream; returns the line numbers of each kind. */
function writeStream(path: string): void {
  const fd = openSync(path, 'w');
  const line = (text: string | Buffer) => {
    writeSync(fd, typeof text === 'string' ? Buffer.from(text) : text);
    writeSync(fd, '\n');
  };
  line(
    JSON.stringify({
      id: 'ok-1',
      aggregate: 'order',
      key: 'o1',
      seq: 1,
      type: 'order.placed',
      payload: { total: 5 },
    }),
  );
  const chunk = 'h'.repeat(MB);
  for (let index = 0; index < HUGE_LINES; index += 1) {
    for (let written = 0; written < HUGE_BYTES; written += MB) writeSync(fd, chunk);
    writeSync(fd, '\n');
  }
  for (let index = 0; index < GARBAGE_LINES; index += 1) line(`garbage ${index} `.padEnd(GARBAGE_BYTES, 'g'));
  const deep = 6_000;
  line(
    `{"id":"deep-1","aggregate":"order","key":"o2","seq":1,"type":"order.placed","payload":{"total":5,"x":${'['.repeat(deep)}${']'.repeat(deep)}}}`,
  );
  line('['.repeat(20_000) + ']'.repeat(20_000));
  for (const bad of [0xff, 0xfe])
    line(
      Buffer.concat([
        Buffer.from('{"id":"u","aggregate":"order","key":"k'),
        Buffer.from([bad]),
        Buffer.from('","seq":1,"type":"order.placed","payload":{"total":1}}'),
      ]),
    );
  line(
    JSON.stringify({
      id: 'big',
      aggregate: 'order',
      key: 'o3',
      seq: 1,
      payload: { blob: 'b'.repeat(100_000) },
    }),
  );
  line(
    JSON.stringify({
      id: 'ok-2',
      aggregate: 'order',
      key: 'o1',
      seq: 2,
      type: 'order.paid',
      payload: { amount: 5 },
    }),
  );
  closeSync(fd);
}

interface OutputLine {
  id: string | null;
  outcome: string;
  reason: string;
  detail?: string;
  line?: number;
}

async function check(file: string, extra: string[]): Promise<{ lines: OutputLine[]; maxRssMb: number }> {
  const { stdout, stderr } = await run(process.execPath, ['--import', 'tsx', CLI, 'check', file, ...extra], {
    maxBuffer: 64 * MB,
    timeout: 240_000,
  });
  const rss = /MAX_RSS_KB=(\d+)/.exec(stderr);
  expect(rss, stderr).not.toBeNull();
  return {
    lines: stdout
      .trim()
      .split('\n')
      .map((text) => JSON.parse(text) as OutputLine),
    maxRssMb: Number(rss?.[1]) / 1_024,
  };
}

function expectEveryLineAnswered(lines: OutputLine[]): void {
  expect(lines).toHaveLength(1 + HUGE_LINES + GARBAGE_LINES + 2 + 2 + 1 + 1);
  expect(lines[0]).toMatchObject({ id: 'ok-1', outcome: 'applied' });
  for (let index = 1; index <= HUGE_LINES; index += 1)
    expect(lines[index]).toMatchObject({
      outcome: 'rejected',
      reason: 'input-too-large',
      line: index + 1,
      detail: `line ${index + 1} is ${HUGE_BYTES} bytes, over the limit of ${MB} (--max-line-bytes)`,
    });
  const garbage = lines.slice(1 + HUGE_LINES, 1 + HUGE_LINES + GARBAGE_LINES);
  expect(new Set(garbage.map((line) => line.reason))).toEqual(new Set(['invalid-envelope']));
  const [deepEvent, deepArray, utf1, utf2, big, last] = lines.slice(1 + HUGE_LINES + GARBAGE_LINES);
  expect(big).toMatchObject({ outcome: 'rejected', reason: 'invalid-envelope' });
  expect(big?.detail).toContain('invalid event envelope: type');
  expect(deepEvent?.detail).toMatch(/nests 6002 levels deep, over the limit of 256/);
  expect(deepArray?.detail).toMatch(/nests 20000 levels deep/);
  for (const utf of [utf1, utf2]) {
    expect(utf).toMatchObject({ outcome: 'rejected', reason: 'invalid-envelope' });
    expect(utf?.detail).toContain('not valid UTF-8');
  }
  expect(last).toMatchObject({ id: 'ok-2', outcome: 'applied' });
}

describe('check on hostile input', () => {
  let dir: string;
  let file: string;
  let own: OwnRedis;
  let admin: Redis;
  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'gk-hostile-'));
    file = join(dir, 'hostile.ndjson');
    writeStream(file);
    own = await startOwnRedis();
    admin = new Redis(own.url);
  });
  afterAll(async () => {
    await admin.quit();
    await own.destroy();
    rmSync(dir, { recursive: true, force: true });
  });

  it('on the embedded store: every line answered, peak RSS bounded', async () => {
    const { lines, maxRssMb } = await check(file, []);
    expectEveryLineAnswered(lines);
    expect(maxRssMb).toBeLessThan(MAX_RSS_MB);
  }, 240_000);

  it('on Redis: every line answered, peak RSS and Redis memory bounded, dead letters reduced and spread over shards', async () => {
    const before = Number(/used_memory:(\d+)/.exec(await admin.info('memory'))?.[1]);
    const { lines, maxRssMb } = await check(file, ['--redis', own.url, '--redis-prefix', 'hostile']);
    expectEveryLineAnswered(lines);
    expect(maxRssMb).toBeLessThan(MAX_RSS_MB);
    const after = Number(/used_memory:(\d+)/.exec(await admin.info('memory'))?.[1]);
    // 200 garbage dead letters keep 4 KiB each, the huge lines their head: ~1 MB, not ~250 MB.
    expect(after - before).toBeLessThan(8 * MB);
    const lengths = await Promise.all(
      Array.from({ length: 16 }, (_, shard) => admin.xlen(`{hostile:${shard}}:dead`)),
    );
    expect(lengths.reduce((sum, length) => sum + length, 0)).toBe(HUGE_LINES + GARBAGE_LINES + 5);
    expect(lengths.filter((length) => length > 0).length).toBeGreaterThanOrEqual(12);
    // Every dead letter keeps at most 4 KiB of its input, with the size and hash of the rest.
    for (let shard = 0; shard < 16; shard += 1) {
      for (const [, fields] of await admin.xrange(`{hostile:${shard}}:dead`, '-', '+')) {
        expect((fields[1] as string).length).toBeLessThan(8_192);
        const letter = JSON.parse(fields[1] as string) as { raw: unknown };
        if (typeof letter.raw === 'object')
          expect(letter.raw).toMatchObject({ sha256: expect.stringMatching(/^[0-9a-f]{64}$/) as string });
      }
    }
  }, 240_000);
});
