/**
 * Live inspection: sends every entity actor's XState inspection events to a WebSocket server (the
 * protocol of Stately's Inspector, via `@statelyai/inspect`'s createInspector).
 *
 * Why not `createWebSocketInspector` as is: its adapter (0.7.2, src/webSocket.ts) retries every 5 s
 * forever on an un-unref'd timer, and its `stop()` while connecting fires `onerror`, which schedules
 * yet another reconnect — so a missing server keeps a process (or a test run) alive. This adapter
 * connects with a deadline, retries on an unref'd timer, queues a bounded number of events while
 * not connected, drops rather than blocks when the socket backs up, and stops for good on stop().
 */
import { createInspector } from '@statelyai/inspect';
import { WebSocket } from 'ws';
import type { ActorInspector } from '../gatekeeper/actor-cursor.ts';

export interface InspectorOptions {
  /** How long one connection attempt may take (default 2,000 ms). */
  connectTimeoutMs?: number;
  /** Pause between attempts after a failure (default 5,000 ms; the timer never keeps the process alive). */
  retryMs?: number;
  /** Events kept while not connected; the oldest are dropped beyond it (default 1,000). */
  maxQueued?: number;
  /** Socket bytes waiting to be sent above which new events are dropped (default 8 MiB). */
  maxBufferedBytes?: number;
  /** Told once per outage, e.g. to log a warning. */
  onUnavailable?: (message: string) => void;
}

export interface InspectorConnection {
  /** Pass as GatekeeperOptions.inspect. */
  readonly inspect: ActorInspector;
  /** Resolves true once connected, false when the first attempt fails (the adapter keeps retrying). */
  readonly connected: Promise<boolean>;
  /** Events dropped because the queue was full or the socket backed up. */
  dropped(): number;
  /** Closes the socket and stops retrying. */
  stop(): Promise<void>;
}

/** The adapter port of @statelyai/inspect (declared there but not exported). */
type Adapter = Parameters<typeof createInspector>[0];
type InspectionEvent = Parameters<Adapter['send']>[0];

class BoundedWebSocketAdapter implements Adapter {
  private socket: WebSocket | undefined;
  private queue: InspectionEvent[] = [];
  private retryTimer: NodeJS.Timeout | undefined;
  private stopped = false;
  private warned = false;
  private droppedCount = 0;
  private closing: Promise<void> | undefined;
  private settle: ((connected: boolean) => void) | undefined;
  readonly connected: Promise<boolean>;

  constructor(
    private readonly url: string,
    private readonly options: Required<Omit<InspectorOptions, 'onUnavailable'>> &
      Pick<InspectorOptions, 'onUnavailable'>,
  ) {
    this.connected = new Promise((resolve) => (this.settle = resolve));
  }

  start(): void {
    if (this.stopped || this.socket) return;
    const socket = new WebSocket(this.url, { handshakeTimeout: this.options.connectTimeoutMs });
    this.socket = socket;
    socket.on('open', () => {
      this.warned = false;
      this.resolveConnected(true);
      const queued = this.queue;
      this.queue = [];
      for (const event of queued) this.send(event);
    });
    socket.on('error', (error) => this.unavailable(error.message));
    socket.on('close', () => {
      if (this.socket === socket) this.socket = undefined;
      this.scheduleRetry();
    });
  }

  stop(): void {
    void this.close();
  }

  /** Stops retrying and resolves once the socket (if any) is closed; events already queued are sent first. */
  close(): Promise<void> {
    return (this.closing ??= this.closeOnce());
  }

  private async closeOnce(): Promise<void> {
    // createInspector hands events over on setTimeout(0); one timer turn lets those already queued arrive.
    await new Promise<void>((resolve) => setTimeout(resolve, 0));
    this.stopped = true;
    if (this.retryTimer) clearTimeout(this.retryTimer);
    this.retryTimer = undefined;
    this.resolveConnected(false);
    this.queue = [];
    const socket = this.socket;
    this.socket = undefined;
    if (!socket || socket.readyState === WebSocket.CLOSED) return;
    const closed = new Promise<void>((resolve) => socket.once('close', () => resolve()));
    if (socket.readyState === WebSocket.OPEN) socket.close(1000, 'gatekeeper stopping');
    else socket.terminate();
    await closed;
  }

  send(event: InspectionEvent): void {
    if (this.stopped) return;
    const socket = this.socket;
    if (socket?.readyState === WebSocket.OPEN) {
      if (socket.bufferedAmount > this.options.maxBufferedBytes) {
        this.droppedCount += 1;
        return;
      }
      socket.send(stringifySafely(event));
      return;
    }
    this.queue.push(event);
    if (this.queue.length > this.options.maxQueued) {
      this.queue.shift();
      this.droppedCount += 1;
    }
  }

  dropped(): number {
    return this.droppedCount;
  }

  private unavailable(reason: string): void {
    this.resolveConnected(false);
    if (this.stopped || this.warned) return;
    this.warned = true;
    this.options.onUnavailable?.(
      `inspector at ${this.url} unavailable (${reason}); retrying every ${this.options.retryMs} ms`,
    );
  }

  private scheduleRetry(): void {
    if (this.stopped || this.retryTimer) return;
    this.retryTimer = setTimeout(() => {
      this.retryTimer = undefined;
      this.start();
    }, this.options.retryMs);
    this.retryTimer.unref();
  }

  private resolveConnected(connected: boolean): void {
    this.settle?.(connected);
    this.settle = undefined;
  }
}

/** Starts sending inspection events to `url` (e.g. ws://127.0.0.1:8080). Never throws for an absent server. */
export function connectInspector(url: string, options: InspectorOptions = {}): InspectorConnection {
  const adapter = new BoundedWebSocketAdapter(url, {
    connectTimeoutMs: options.connectTimeoutMs ?? 2_000,
    retryMs: options.retryMs ?? 5_000,
    maxQueued: options.maxQueued ?? 1_000,
    maxBufferedBytes: options.maxBufferedBytes ?? 8 * 1024 * 1024,
    onUnavailable: options.onUnavailable,
  });
  const inspector = createInspector(adapter, { autoStart: false });
  inspector.start();
  return {
    inspect: inspector.inspect,
    connected: adapter.connected,
    dropped: () => adapter.dropped(),
    stop: () => adapter.close(),
  };
}

/** JSON for an inspection event: cycles and depth beyond 10 become markers, functions their names. */
export function stringifySafely(value: unknown, maxDepth = 10): string {
  const ancestors: unknown[] = [];
  return JSON.stringify(value, function replacer(this: unknown, _key: string, field: unknown) {
    if (typeof field === 'function') return { type: (field as { name?: string }).name ?? 'function' };
    if (typeof field === 'bigint') return field.toString();
    if (typeof field !== 'object' || field === null) return field;
    // `this` is the object holding `field`: trim the ancestor stack back to it.
    while (ancestors.length > 0 && ancestors.at(-1) !== this) ancestors.pop();
    if (ancestors.includes(field)) return '[Circular]';
    if (ancestors.length >= maxDepth) return '[Depth]';
    ancestors.push(field);
    return field;
  });
}
