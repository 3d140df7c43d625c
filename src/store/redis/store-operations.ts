/**
 * How one operation of a Redis store runs: after the namespace check (store-gate.ts), under the
 * store's deadline, with every failure mapped to the store's typed errors (connection.ts).
 */
import { StoreUnavailableError } from '../../core/errors.ts';
import { toStoreError, type OpenedClient } from './connection.ts';
import type { StoreGate } from './store-gate.ts';

/** One operation waiting for its answer, failed by the watchdog past its deadline. */
interface InFlight {
  deadline: number;
  operation: string;
  reject: (error: unknown) => void;
}

/** `StoreOperations.run`, as the parts of a store that send their own commands are handed it. */
export type RunOperation = <TResult>(operation: string, work: () => Promise<TResult>) => Promise<TResult>;

/** Runs a store's operations; one watchdog timer fails those past the deadline. */
export class StoreOperations {
  private readonly inFlight = new Set<InFlight>();
  private watchdog: NodeJS.Timeout | undefined;

  constructor(
    private readonly gate: StoreGate,
    private readonly connection: Pick<OpenedClient, 'where' | 'lastError'>,
    private readonly operationTimeoutMs: number,
  ) {}

  /**
   * Runs one operation after the namespace check, under the store's deadline, mapping failures.
   * The deadline is kept by one unref'd interval timer for all operations rather than a timer each:
   * an operation still waiting past it is failed with StoreUnavailableError (ioredis may still
   * deliver its command later; a late commit is harmless, the version fence decides).
   */
  run<TResult>(operation: string, work: () => Promise<TResult>): Promise<TResult> {
    const gate = this.gate;
    if (gate.closed)
      return Promise.reject(new StoreUnavailableError(`redis store: ${operation} after close()`));
    let started: Promise<TResult>;
    try {
      started = gate.namespaceReady ? work() : gate.checkNamespace().then(work);
    } catch (error) {
      return Promise.reject(toStoreError(error, operation, this.connection));
    }
    return new Promise<TResult>((resolve, reject) => {
      const entry: InFlight = { deadline: Date.now() + this.operationTimeoutMs, operation, reject };
      this.inFlight.add(entry);
      this.watchdog ??= setInterval(
        () => this.expireOverdue(),
        Math.max(50, Math.min(1_000, this.operationTimeoutMs / 4)),
      ).unref();
      started.then(
        (value) => {
          this.inFlight.delete(entry);
          resolve(value);
        },
        (error: unknown) => {
          this.inFlight.delete(entry);
          reject(toStoreError(error, operation, this.connection));
        },
      );
    });
  }

  /**
   * A read that writes nothing, not even the namespace record (the dry run and version checks must
   * work on a replica and for a read-only user): the deadline and error mapping of `run` only.
   */
  read<TResult>(operation: string, work: () => Promise<TResult>): Promise<TResult> {
    if (this.gate.closed)
      return Promise.reject(new StoreUnavailableError(`redis store: ${operation} after close()`));
    return withDeadline(work(), this.operationTimeoutMs, operation).catch((error: unknown) => {
      throw toStoreError(error, operation, this.connection);
    });
  }

  /** Stops the watchdog (the store was closed). */
  stop(): void {
    if (this.watchdog) clearInterval(this.watchdog);
  }

  private expireOverdue(): void {
    const now = Date.now();
    for (const entry of this.inFlight) {
      if (entry.deadline > now) continue;
      this.inFlight.delete(entry);
      entry.reject(
        new StoreUnavailableError(
          `redis store: ${entry.operation} got no answer within ${this.operationTimeoutMs} ms`,
        ),
      );
    }
  }
}

/** `work`, or StoreUnavailableError once `ms` passed without its answer (one timer per call). */
export function withDeadline<TResult>(
  work: Promise<TResult>,
  ms: number,
  operation: string,
): Promise<TResult> {
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<never>((_, reject) => {
    timer = setTimeout(
      () => reject(new StoreUnavailableError(`redis store: ${operation} got no answer within ${ms} ms`)),
      ms,
    );
  });
  return Promise.race([work, deadline]).finally(() => clearTimeout(timer));
}
