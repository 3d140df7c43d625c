/**
 * The key space a Redis store uses and what follows from it: each shard's stream and index keys
 * and the per-shard dead-letter bounds. One object shared by the store's parts, so that a layout
 * adopted after opening (`recordedLayout`, see store-gate.ts) reaches all of them at once.
 */
import { DeadLettersFullError } from '../dead-letters-full-error.ts';
import type { KeySpace } from './keys.ts';

/** The layout in use; `use` switches it in place, so every part holding it sees the switch. */
export class StoreLayout {
  keys: KeySpace;
  /** Dead letters kept per shard (the store's limit / shards; 0 = unbounded). */
  deadLetterMaxLen = 0;
  /** Bytes of dead-letter JSON kept per shard (0 = unbounded). */
  deadLetterMaxBytes = 0;
  outboxKeys: string[] = [];
  deadKeys: string[] = [];
  stalledKeys: string[] = [];
  parkedKeys: string[] = [];

  /** `limits`: the store's dead-letter bounds in all, divided among the shards here. */
  constructor(
    keys: KeySpace,
    private readonly limits: { readonly deadLetterLimit: number; readonly deadLetterByteLimit: number },
  ) {
    this.keys = keys;
    this.use(keys);
  }

  /** Derives the per-shard key lists and limits from a key space. */
  use(keys: KeySpace): void {
    const { deadLetterLimit, deadLetterByteLimit } = this.limits;
    this.keys = keys;
    this.deadLetterMaxLen = deadLetterLimit === 0 ? 0 : Math.ceil(deadLetterLimit / keys.shards);
    this.deadLetterMaxBytes = deadLetterByteLimit === 0 ? 0 : Math.ceil(deadLetterByteLimit / keys.shards);
    const shards = Array.from({ length: keys.shards }, (_, shard) => keys.shard(shard));
    this.outboxKeys = shards.map((shardKeys) => shardKeys.outbox);
    this.deadKeys = shards.map((shardKeys) => shardKeys.dead);
    this.stalledKeys = shards.map((shardKeys) => shardKeys.stalled);
    this.parkedKeys = shards.map((shardKeys) => shardKeys.parked);
  }

  /** The refusal of a decision or dead letter past the per-shard bound (relayed dead letters are never trimmed). */
  deadLettersFull(): DeadLettersFullError {
    const bounds = [
      this.deadLetterMaxLen > 0 ? `${this.deadLetterMaxLen} entries` : '',
      this.deadLetterMaxBytes > 0 ? `${this.deadLetterMaxBytes} bytes` : '',
    ].filter((bound) => bound !== '');
    return new DeadLettersFullError('redis store', `${bounds.join(' or ')} per shard`);
  }
}
