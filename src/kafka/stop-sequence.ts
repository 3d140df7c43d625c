/**
 * How a runner stops: leave the group (the batch in flight finishes and commits), let the
 * decisions settle, publish what the relays still hold, disconnect, close the stores. Every step is
 * bounded, so a stop ends within shutdownTimeoutMs plus a few seconds even with the broker or the
 * store unreachable (kafkajs alone would retry for minutes), and a line says what was left
 * unpublished and where it is. The stop runs once, for whichever of stop(), a fatal error or a
 * failed start asks first, and settles the runner's `done`.
 */
import type { Consumer, Producer } from 'kafkajs';
import type { Gatekeeper } from '../gatekeeper/gatekeeper.ts';
import type { EntityStore } from '../store/entity-store.ts';
import type { RunLogger } from './kafka-client.ts';
import { describeKafkaError } from './kafka-errors.ts';
import type { Relay } from './relay.ts';
import { within } from './within.ts';

export interface StopParts {
  consumer: Consumer | undefined;
  producer: Producer | undefined;
  gatekeeper: Gatekeeper;
  relays: readonly Relay<unknown>[];
  /** With partition ownership: the per-partition relays, stopped together (true when all are empty). */
  ownership?: { stop(timeoutMs: number): Promise<boolean> };
  /** The transition handler's runners: given the time left to run what was committed. */
  effects?: { idle(): Promise<void> };
  /** Disconnected beside the producer (the exactly-once checkpoint reader). */
  admin?: { disconnect(): Promise<void> };
  /** The store the relays read (counted for the "left unpublished" line), and the deciding one. */
  relayStore: EntityStore;
  store: EntityStore;
  /** Rows left in the store survive the process (Redis) or die with it (in-memory store). */
  durable: boolean;
  shutdownTimeoutMs: number;
  relayBatchSize: number;
  log: RunLogger;
}

/** Runs the stop sequence; never throws. */
export async function stopSequence(parts: StopParts, fatal: unknown): Promise<void> {
  const { log, shutdownTimeoutMs: timeout } = parts;
  const deadline = Date.now() + timeout;
  const left = () => Math.max(0, deadline - Date.now());
  log('info', fatal === undefined ? 'stopping: finishing in-flight work' : 'stopping after a fatal error');
  // consumer.disconnect() waits for the batch in flight; the handler sees isRunning() false, stops
  // feeding, lets started decisions finish, resolves and commits their offsets.
  if (parts.consumer) {
    const disconnected = await within(
      parts.consumer.disconnect().then(
        () => true,
        (error: unknown) => {
          log('warn', `consumer disconnect failed: ${describeKafkaError(error)}`);
          return true;
        },
      ),
      left(),
    );
    if (disconnected === undefined)
      log(
        'warn',
        `the consumer did not leave the group within ${timeout} ms (is the broker reachable?); records whose offsets were not committed are delivered again to the group`,
      );
  }
  await within(parts.gatekeeper.idle(), left());
  // Effects left unrun stay in a durable store for the next owner; the memory store loses them.
  if (parts.effects) await within(parts.effects.idle(), left());
  const empty = await Promise.all([
    ...parts.relays.map((relay) => relay.stop(left())),
    ...(parts.ownership ? [parts.ownership.stop(left())] : []),
  ]);
  if (empty.includes(false)) log('warn', await unpublishedLine(parts));
  await within(
    parts.admin?.disconnect().catch(() => undefined),
    2_000,
  );
  await within(
    parts.producer
      ?.disconnect()
      .catch((error: unknown) => log('warn', `producer disconnect failed: ${describeKafkaError(error)}`)),
    Math.max(left(), 2_000),
  );
  await within(
    parts.gatekeeper.close().catch((error: unknown) => log('warn', `store close failed: ${String(error)}`)),
    5_000,
  );
  if (parts.relayStore !== parts.store)
    await within(
      parts.relayStore.close().catch(() => undefined),
      5_000,
    );
  log('info', 'stopped');
}

/** What the relays could not publish before the deadline, and where it is now. */
async function unpublishedLine(parts: StopParts): Promise<string> {
  const limit = parts.relayBatchSize;
  const counted = await within(
    Promise.all([parts.relayStore.readOutbox(limit), parts.relayStore.readDeadLetters(limit)]).then(
      ([rows, letters]) => [rows.length, letters.length] as const,
      () => undefined,
    ),
    2_000,
  );
  const amount = (count: number) => (count >= limit ? `at least ${count}` : String(count));
  const what =
    counted === undefined
      ? 'rows in the outbox or dead letters'
      : `${amount(counted[0])} transitions and ${amount(counted[1])} dead letters`;
  const where = parts.durable
    ? 'they stay in the store and are published after the next start'
    : 'they are lost with this process (in-memory store)';
  return `stopped with ${what} not published within shutdownTimeoutMs (${parts.shutdownTimeoutMs} ms; is the broker reachable?): ${where}`;
}

/** A runner's stop: begun once, by whichever comes first of stop(), a fatal error or a failed start. */
export interface RunnerStop {
  /** Resolves after a clean stop; rejects with the fatal error that began it. */
  readonly done: Promise<void>;
  /** Set once a stop began: from then on the consumer must never run again. */
  readonly requested: boolean;
  /** Runs the stop sequence the first time; later calls get the same promise. */
  shutdown(fatal: unknown): Promise<void>;
}

/** `parts` is read when the stop begins: the consumer and the producer are made after this. */
export function stopOnce(parts: () => StopParts): RunnerStop {
  let settle!: { resolve: () => void; reject: (error: unknown) => void };
  const done = new Promise<void>((resolve, reject) => {
    settle = { resolve, reject };
  });
  // `done` may never be awaited by a caller that only calls stop(); don't report it as unhandled.
  done.catch(() => undefined);
  let stopping: Promise<void> | undefined;
  let requested = false;
  return {
    done,
    get requested() {
      return requested;
    },
    shutdown: (fatal) =>
      (stopping ??= (async () => {
        requested = true;
        await stopSequence(parts(), fatal);
        if (fatal === undefined) settle.resolve();
        else settle.reject(fatal);
      })()),
  };
}
