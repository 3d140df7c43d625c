/**
 * Test-only crash points: the fault tests kill a real `gatekeeper run` at a chosen point of the
 * publishing path, to prove that a restart loses and duplicates nothing there. Set
 * `GATEKEEPER_TEST_CRASH_AT=<point>[:<n>]` and the process SIGKILLs itself the n-th time (default
 * the first) any relay reaches that point:
 *
 * - `before-publish`: rows read from the store (their decisions committed), nothing produced yet;
 * - `in-transaction`: exactly-once, the round's records and checkpoint sent, the transaction open;
 * - `after-transaction`: exactly-once, the transaction committed, its rows not deleted yet.
 *
 * The variable is read once, when this module loads; unset (always, outside tests) each point
 * costs one comparison. Never set it in production: the process dies without a word to anybody.
 */
import { writeSync } from 'node:fs';

/** The points of the publishing path a test can crash the process at. */
export type CrashPoint = 'before-publish' | 'in-transaction' | 'after-transaction';

const POINTS: readonly CrashPoint[] = ['before-publish', 'in-transaction', 'after-transaction'];

function armed(value: string | undefined): { point: CrashPoint; remaining: number } | undefined {
  if (value === undefined || value === '') return undefined;
  const [point, nth] = value.split(':');
  const remaining = nth === undefined ? 1 : Number(nth);
  if (!POINTS.includes(point as CrashPoint) || !Number.isSafeInteger(remaining) || remaining < 1)
    throw new Error(
      `GATEKEEPER_TEST_CRASH_AT=${value}: expected <point>[:<n>], point one of ${POINTS.join(', ')}`,
    );
  return { point: point as CrashPoint, remaining };
}

const chosen = armed(process.env.GATEKEEPER_TEST_CRASH_AT);

/** Kills the process with SIGKILL when the test asked for a crash here (see the module's TSDoc). */
export function crashPoint(point: CrashPoint): void {
  if (chosen === undefined || chosen.point !== point) return;
  chosen.remaining -= 1;
  if (chosen.remaining > 0) return;
  // Synchronous: the line is in the test's pipe before the signal lands.
  writeSync(2, `gatekeeper run: test crash at ${point} (GATEKEEPER_TEST_CRASH_AT)\n`);
  process.kill(process.pid, 'SIGKILL');
}
