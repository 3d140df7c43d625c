import type { EachBatchPayload } from 'kafkajs';
import { describe, expect, it } from 'vitest';
import type { Gatekeeper, HandleResult } from '../../../src/gatekeeper/gatekeeper.ts';
import { createBatchHandler } from '../../../src/kafka/batch-handler.ts';
import { MetricsSink } from '../../../src/kafka/metrics.ts';
import { DeadLettersFullError } from '../../../src/store/dead-letters-full-error.ts';

/** A batch of `count` garbage records of one partition, and what the handler did with it. */
function fakeBatch(count: number) {
  const resolved: string[] = [];
  const messages = Array.from({ length: count }, (_, n) => ({
    key: Buffer.from(`k-${n}`),
    value: Buffer.from(`garbage ${n}`),
    offset: String(100 + n),
    timestamp: '0',
    attributes: 0,
    headers: {},
  }));
  const payload = {
    batch: {
      topic: 'in',
      partition: 0,
      highWatermark: String(100 + count),
      messages,
      firstOffset: () => '100',
    },
    resolveOffset: (offset: string) => resolved.push(offset),
    heartbeat: () => Promise.resolve(),
    isRunning: () => true,
    isStale: () => false,
    uncommittedOffsets: () => ({ topics: [] }),
    commitOffsetsIfNecessary: () => Promise.resolve(),
  } as unknown as EachBatchPayload;
  return { payload, resolved };
}

describe('the batch handler under dead-letter back-pressure', () => {
  it('waits, then hands the refused records again in offset order, and resolves the whole batch', async () => {
    const attempts = new Map<string, number>();
    const decided: string[] = [];
    let room = 3; // the store takes 3 letters, then refuses until the "relay" frees room
    const gatekeeper = {
      rejectUnparseable: (_raw: unknown, _detail: string, source: { offset: string }) => {
        attempts.set(source.offset, (attempts.get(source.offset) ?? 0) + 1);
        if (room === 0) return Promise.reject(new DeadLettersFullError('test store', '3 entries'));
        room -= 1;
        decided.push(source.offset);
        return Promise.resolve({} as HandleResult);
      },
    } as unknown as Gatekeeper;
    const pressure: string[] = [];
    const handler = createBatchHandler({
      gatekeeper,
      metrics: new MetricsSink(undefined),
      maxInFlight: 4,
      backPressureWaitMs: 5,
      onBackPressure: (error) => pressure.push(error.message),
    });
    const relay = setInterval(() => (room = 3), 10); // publishes what is there every 10 ms
    try {
      const { payload, resolved } = fakeBatch(20);
      await handler(payload);
      expect(decided).toEqual(Array.from({ length: 20 }, (_, n) => String(100 + n)));
      expect(resolved.at(-1)).toBe('119');
      expect([...attempts.values()].some((count) => count > 1)).toBe(true);
      expect(pressure).toHaveLength(1);
    } finally {
      clearInterval(relay);
    }
  });
});
