/**
 * The one error tree. Library code throws these (never exits); check with `instanceof`.
 * `retriable` tells a runner whether trying again can help.
 */
export class GatekeeperError extends Error {
  readonly code: string;
  readonly retriable: boolean;

  constructor(message: string, options: { code: string; retriable?: boolean; cause?: unknown }) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'GatekeeperError';
    this.code = options.code;
    this.retriable = options.retriable ?? false;
  }
}

/** The machines registry (or one aggregate in it) is malformed. */
export class InvalidRegistryError extends GatekeeperError {
  constructor(message: string) {
    super(message, { code: 'INVALID_REGISTRY' });
    this.name = 'InvalidRegistryError';
  }
}

/** A configuration value (limits, CLI flags, config file) is invalid. */
export class InvalidConfigError extends GatekeeperError {
  constructor(message: string, cause?: unknown) {
    super(message, { code: 'INVALID_CONFIG', cause });
    this.name = 'InvalidConfigError';
  }
}

/** Another process committed the entity first; reload and decide again. */
export class VersionConflictError extends GatekeeperError {
  constructor(aggregate: string, key: string, expected: number) {
    super(`entity ${aggregate}/${key} moved past version ${expected} while deciding; it will be reloaded`, {
      code: 'VERSION_CONFLICT',
      retriable: true,
    });
    this.name = 'VersionConflictError';
  }
}

/** The store could not be reached or answered with an error; the decision was not written. */
export class StoreUnavailableError extends GatekeeperError {
  constructor(message: string, cause?: unknown) {
    super(message, { code: 'STORE_UNAVAILABLE', retriable: true, cause });
    this.name = 'StoreUnavailableError';
  }
}

/**
 * The store answered the operation with an error before writing anything (Redis: OOM, READONLY,
 * NOPERM, LOADING, …, which refuse a script at its first write), so a refused commit is known not
 * to have landed, unlike one whose reply was lost.
 */
export class StoreRefusedError extends StoreUnavailableError {
  constructor(message: string, cause?: unknown) {
    super(message, cause);
    this.name = 'StoreRefusedError';
  }
}

/**
 * A write for a shard (one input partition's entities, outbox and dead letters) was refused
 * because this process no longer holds the shard: another member claimed it since (the group
 * rebalanced while this one was paused or slow). Nothing was written; the member rejoins the
 * group and takes whatever it is assigned now.
 */
export class ShardFencedError extends GatekeeperError {
  constructor(
    readonly shard: number,
    message: string,
  ) {
    super(message, { code: 'SHARD_FENCED', retriable: true });
    this.name = 'ShardFencedError';
  }
}

/** An operator action (retry, skip) was asked of an entity that is not in a state to take it. */
export class OperatorActionError extends GatekeeperError {
  constructor(message: string) {
    super(message, { code: 'OPERATOR_ACTION' });
    this.name = 'OperatorActionError';
  }
}

/** The gatekeeper was used after close(). */
export class ClosedError extends GatekeeperError {
  constructor() {
    super('the gatekeeper is closed', { code: 'CLOSED' });
    this.name = 'ClosedError';
  }
}

/** The message of anything thrown: an Error's own message, else the value as text. */
export function messageOf(thrown: unknown): string {
  return thrown instanceof Error ? thrown.message : String(thrown);
}

/** The first error in the cause chain of `thrown` (itself first) that `matches` accepts. */
export function findCause<TError extends Error>(
  thrown: unknown,
  matches: (error: Error) => error is TError,
): TError | undefined;
export function findCause(thrown: unknown, matches: (error: Error) => boolean): Error | undefined;
export function findCause(thrown: unknown, matches: (error: Error) => boolean): Error | undefined {
  for (let cause: unknown = thrown; cause instanceof Error; cause = cause.cause) {
    if (matches(cause)) return cause;
  }
  return undefined;
}
