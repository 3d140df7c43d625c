/**
 * Where a Redis benchmark round's time goes, per event: the Node process's CPU, the Redis server's
 * CPU (`INFO cpu`, so every command and script counts once), bytes sent to and received from Redis
 * (`INFO stats`), and the share of the round spent in garbage collection. The Redis server should
 * serve the benchmark only: its counters cover all of its clients.
 */
import { PerformanceObserver, performance } from 'node:perf_hooks';
import type { Redis } from 'ioredis';

export interface ResourceFigures {
  nodeCpuUsPerEvent: number;
  redisCpuUsPerEvent: number;
  bytesToRedisPerEvent: number;
  bytesFromRedisPerEvent: number;
  /** Garbage collection time over the round's wall time. */
  gcShare: number;
}

interface ServerCounters {
  cpuUs: number;
  input: number;
  output: number;
}

async function serverCounters(admin: Redis): Promise<ServerCounters> {
  const [cpu, stats] = await Promise.all([admin.info('cpu'), admin.info('stats')]);
  const field = (text: string, name: string) =>
    Number(new RegExp(`^${name}:([\\d.]+)`, 'm').exec(text)?.[1] ?? NaN);
  return {
    cpuUs: (field(cpu, 'used_cpu_user') + field(cpu, 'used_cpu_sys')) * 1e6,
    input: field(stats, 'total_net_input_bytes'),
    output: field(stats, 'total_net_output_bytes'),
  };
}

/** Runs `round` (which handles `events` events) and measures what it cost, per event. */
export async function measured<T>(
  admin: Redis,
  events: number,
  round: () => Promise<T>,
): Promise<{ result: T; resources: ResourceFigures }> {
  let gcMs = 0;
  const observer = new PerformanceObserver((list) => {
    for (const entry of list.getEntries()) gcMs += entry.duration;
  });
  observer.observe({ entryTypes: ['gc'] });
  const before = await serverCounters(admin);
  const cpu = process.cpuUsage();
  const started = performance.now();
  const result = await round();
  const wallMs = performance.now() - started;
  const used = process.cpuUsage(cpu);
  const after = await serverCounters(admin);
  observer.disconnect();
  const per = (value: number) => Math.round((value / events) * 10) / 10;
  return {
    result,
    resources: {
      nodeCpuUsPerEvent: per(used.user + used.system),
      redisCpuUsPerEvent: per(after.cpuUs - before.cpuUs),
      bytesToRedisPerEvent: per(after.input - before.input),
      bytesFromRedisPerEvent: per(after.output - before.output),
      gcShare: Math.round((gcMs / wallMs) * 1000) / 1000,
    },
  };
}
