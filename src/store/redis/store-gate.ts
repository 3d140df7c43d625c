/**
 * What every operation of a Redis store passes before it sends anything: the store still open,
 * the layout recorded for its prefix adopted (`recordedLayout`), the namespace checked
 * (namespace.ts), and, for a read-only store, no write. The layout and the namespace are each
 * looked at once; a failed look is tried again by the next operation.
 */
import { InvalidConfigError, StoreUnavailableError } from '../../core/errors.ts';
import { toStoreError, type OpenedClient } from './connection.ts';
import { checkNamespace } from './namespace.ts';
import { withDeadline } from './store-operations.ts';
import { keySpaceFor } from './reshard.ts';
import type { RedisClient } from './scripts.ts';
import type { StoreLayout } from './store-layout.ts';
import type { StoreSettings } from './redis-store-options.ts';

/** Layout version recorded in `{prefix}:meta`; bumped when the key layout changes incompatibly. */
const LAYOUT_VERSION = '1';

/** One store's admission state: closed, layout known, namespace checked, shards marked. */
export class StoreGate {
  /** Set by the store's close(): every operation is refused from then on. */
  closed = false;
  /** False until a `recordedLayout` store read the layout recorded for its prefix. */
  layoutKnown: boolean;
  /** The namespace passed its checks: operations run without waiting for them. */
  namespaceReady = false;
  /** Every shard has its marker: a load that finds nothing also checks that the marker is there. */
  marked = false;
  private layoutRead: Promise<void> | undefined;
  private namespaceChecked: Promise<void> | undefined;

  constructor(
    private readonly client: RedisClient,
    private readonly layout: StoreLayout,
    private readonly connection: Pick<OpenedClient, 'where' | 'lastError' | 'configError'>,
    private readonly settings: StoreSettings,
  ) {
    this.layoutKnown = !settings.adoptLayout;
  }

  /**
   * `recordedLayout`: reads the shard count and sharding recorded for the prefix once, then runs
   * `work`. Every public method goes through here until the layout is known, because each of them
   * derives its keys from the layout before it sends anything. A read only (replicas answer it);
   * a failed read is tried again by the next call.
   */
  afterLayout<TResult>(work: () => Promise<TResult>): Promise<TResult> {
    if (this.closed) return Promise.reject(new StoreUnavailableError('redis store: used after close()'));
    this.layoutRead ??= withDeadline(
      this.client.hmget(this.layout.keys.meta, 'shards', 'sharding'),
      this.settings.operationTimeoutMs,
      'layout',
    ).then(
      ([shards, sharding]) => {
        // Operator tools read a namespace in whatever layout `gatekeeper run` made it.
        if (shards !== null)
          this.layout.use(keySpaceFor(this.layout.keys.prefix, Number(shards), sharding ?? 'hash'));
        this.layoutKnown = true;
      },
      (error: unknown) => {
        this.layoutRead = undefined;
        throw toStoreError(error, 'layout', this.connection);
      },
    );
    return this.layoutRead.then(work);
  }

  /** Once per store: the namespace's checks (namespace.ts); a failed check is tried again next time. */
  checkNamespace(): Promise<void> {
    this.namespaceChecked ??= (async () => {
      const state = await checkNamespace({
        client: this.client,
        keys: this.layout.keys,
        layout: LAYOUT_VERSION,
        where: this.connection.where,
        readOnly: this.settings.readOnly,
        allowEviction: this.settings.allowEviction,
        warn: this.settings.warn,
        configError: () => this.connection.configError(),
      });
      this.marked = state.marked;
      this.namespaceReady = true;
    })().catch((error: unknown) => {
      this.namespaceChecked = undefined;
      throw error;
    });
    return this.namespaceChecked;
  }
}

/** The refusal of a write by a store opened with `readOnly`. */
export function readOnlyError(operation: string): InvalidConfigError {
  return new InvalidConfigError(`redis store: ${operation} refused: this store was opened read-only`);
}
