/**
 * Where a benchmark round's CPU goes: a V8 CPU profile of the round (the inspector's sampling
 * profiler, in this process), each sample given to the innermost frame of a known kind and summed
 * per event. The kinds are chosen so each names what it buys: XState is the legality check and the
 * machine state, zod the schema, the decision rules the buffer/dedup/drain verdicts, and so on
 * (docs/redis-store.md, "Where the time goes").
 */
import { Session } from 'node:inspector/promises';

export const CPU_KINDS = [
  'xstate',
  'zod',
  'rules',
  'gatekeeper',
  'store',
  'ioredis',
  'runtime',
  'gc',
  'peer',
  'bench',
  'other',
  'idle',
] as const;
export type CpuKind = (typeof CPU_KINDS)[number];

/** Microseconds per event for each kind; `busy` is everything but idle. */
export type CpuBreakdown = Record<CpuKind | 'busy', number>;

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string };
  children?: number[];
}
interface Profile {
  nodes: ProfileNode[];
  samples: number[];
  timeDeltas: number[];
}

/** Runs `round` under the sampling profiler and returns its result with the CPU breakdown. */
export async function profiled<T>(
  events: number,
  round: () => Promise<T>,
): Promise<{ result: T; breakdown: CpuBreakdown }> {
  const session = new Session();
  session.connect();
  try {
    await session.post('Profiler.enable');
    await session.post('Profiler.setSamplingInterval', { interval: 100 });
    await session.post('Profiler.start');
    let result: T;
    try {
      result = await round();
    } catch (error) {
      await session.post('Profiler.stop');
      throw error;
    }
    const { profile } = (await session.post('Profiler.stop')) as { profile: Profile };
    return { result, breakdown: breakdownOf(profile, events) };
  } finally {
    session.disconnect();
  }
}

export function breakdownOf(profile: Profile, events: number): CpuBreakdown {
  // A frame of no known kind (a builtin such as Buffer.byteLength or JSON.stringify, Node's own
  // internals) counts for the nearest caller that has one: ioredis' byteLength is ioredis' time.
  const parentOf = new Map<number, ProfileNode>();
  for (const node of profile.nodes) for (const child of node.children ?? []) parentOf.set(child, node);
  const kindOf = new Map<number, CpuKind>();
  const resolve = (node: ProfileNode): CpuKind => {
    let known = kindOf.get(node.id);
    if (known !== undefined) return known;
    const own = kind(node.callFrame);
    const parent = parentOf.get(node.id);
    known = own === 'other' && parent !== undefined ? resolve(parent) : own;
    kindOf.set(node.id, known);
    return known;
  };
  for (const node of profile.nodes) resolve(node);
  const sums = Object.fromEntries([...CPU_KINDS, 'busy'].map((k) => [k, 0])) as CpuBreakdown;
  for (let i = 0; i < profile.samples.length; i += 1) {
    const k = kindOf.get(profile.samples[i] as number) ?? 'other';
    const us = profile.timeDeltas[i] ?? 0;
    sums[k] += us;
    if (k !== 'idle') sums.busy += us;
  }
  for (const k of Object.keys(sums) as (keyof CpuBreakdown)[])
    sums[k] = Math.round((sums[k] / events) * 100) / 100;
  return sums;
}

function kind({ functionName, url }: ProfileNode['callFrame']): CpuKind {
  if (functionName === '(garbage collector)') return 'gc';
  if (functionName === '(idle)') return 'idle';
  if (url.includes('/node_modules/xstate/')) return 'xstate';
  if (url.includes('/node_modules/zod/')) return 'zod';
  if (
    url.includes('/node_modules/ioredis/') ||
    url.includes('/node_modules/@ioredis/') ||
    url.includes('/node_modules/redis-parser/') ||
    url.includes('/node_modules/denque/') ||
    url.startsWith('node:net') ||
    url.startsWith('node:internal/stream_base_commons') ||
    url.startsWith('node:internal/streams/') ||
    functionName === 'writeUtf8String' ||
    functionName === 'writeBuffer'
  )
    return 'ioredis';
  if (url.includes('/src/store/')) return 'store';
  if (url.includes('/src/core/')) return 'rules';
  if (url.includes('/src/gatekeeper/')) return 'gatekeeper';
  if (url.includes('/bench/peer/')) return 'peer';
  if (url.includes('/bench/') || url.startsWith('node:inspector')) return 'bench';
  if (
    functionName === 'runMicrotasks' ||
    functionName === '(program)' ||
    url.startsWith('node:internal/process/task_queues') ||
    url.startsWith('node:internal/timers')
  )
    return 'runtime';
  return 'other';
}
