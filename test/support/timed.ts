/** Builders for time-mode tests: unsequenced events stamped with `time`, and a clock after them. */

/** The instant the test histories start at; clocks are set after it so no time lies in the future. */
export const T0 = Date.parse('2026-11-26T10:00:00Z');

/**
 * Timed events of one entity: `timed('valve', 'v1')(2, 'valve.opened', { flow: 5 })` is stamped
 * T0 + 2 s with id `v1@2`; `id` overrides (for two events of the same time, or a redelivery).
 */
export function timed(aggregate: string, key: string) {
  return (second: number, type: string, payload: object = {}, id?: string) => ({
    id: id ?? `${key}@${second}`,
    aggregate,
    key,
    type,
    payload,
    time: new Date(T0 + second * 1_000).toISOString(),
  });
}
