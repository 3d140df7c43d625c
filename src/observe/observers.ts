/**
 * What a long-running command turns on around its gatekeeper: a Prometheus endpoint and live
 * inspection, each off unless asked for. Two phases because the inspector must be handed to the
 * gatekeeper when it is created, while metrics subscribe to the created gatekeeper. The inspector
 * (ws, @statelyai/inspect) and metrics (prom-client) modules are imported only when turned on.
 */
import { InvalidConfigError } from '../core/errors.ts';
import type { ActorInspector } from '../gatekeeper/actor-cursor.ts';
import type { Gatekeeper } from '../gatekeeper/gatekeeper.ts';
import type { InspectorConnection } from './inspect.ts';
import type { GatekeeperMetrics } from './metrics.ts';
import type { MetricsServer } from './metrics-server.ts';

export interface ObserverOptions {
  /** Serve /metrics on this port (0: any free port); off when undefined. */
  metricsPort?: number | undefined;
  /** Interface for /metrics (default 127.0.0.1). */
  metricsHost?: string | undefined;
  /** Send inspection events to this WebSocket URL; off when undefined. */
  inspectUrl?: string | undefined;
  /** One-line notices for the operator (where metrics are served, inspector unavailable). */
  notify?: (message: string) => void;
}

export interface Observers {
  /** For GatekeeperOptions.inspect (undefined when inspection is off). */
  readonly inspect: ActorInspector | undefined;
  readonly inspector: InspectorConnection | undefined;
  /**
   * Waits (bounded by the connect timeout) for the inspector, so a short run is not over before
   * it connects; starts metrics for `gatekeeper`; returns it instrumented (itself when metrics are off).
   */
  attach(gatekeeper: Gatekeeper): Promise<Gatekeeper>;
  metrics(): GatekeeperMetrics | undefined;
  metricsServer(): MetricsServer | undefined;
  close(): Promise<void>;
}

export async function startObservers(options: ObserverOptions): Promise<Observers> {
  const inspector =
    options.inspectUrl === undefined
      ? undefined
      : (await import('./inspect.ts')).connectInspector(validWebSocketUrl(options.inspectUrl), {
          onUnavailable: (message) => options.notify?.(message),
        });
  let metrics: GatekeeperMetrics | undefined;
  let server: MetricsServer | undefined;
  return {
    inspect: inspector?.inspect,
    inspector,
    async attach(gatekeeper) {
      if (inspector) await inspector.connected;
      if (options.metricsPort === undefined) return gatekeeper;
      const [{ createMetrics }, { startMetricsServer }] = await Promise.all([
        import('./metrics.ts'),
        import('./metrics-server.ts'),
      ]);
      metrics = createMetrics(gatekeeper);
      server = await startMetricsServer({
        registry: metrics.registry,
        port: options.metricsPort,
        host: options.metricsHost,
      });
      options.notify?.(`metrics: ${server.url}`);
      return metrics.instrument(gatekeeper);
    },
    metrics: () => metrics,
    metricsServer: () => server,
    async close() {
      metrics?.close();
      await Promise.all([server?.close(), inspector?.stop()]);
    },
  };
}

/** A TCP port from a flag value: an integer 0–65535 (0 picks a free one). */
export function parsePort(name: string, raw: string | undefined): number | undefined {
  if (raw === undefined) return undefined;
  const port = Number(raw);
  if (!Number.isInteger(port) || port < 0 || port > 65_535)
    throw new InvalidConfigError(`--${name} must be a port number 0-65535 (got ${raw})`);
  return port;
}

function validWebSocketUrl(raw: string): string {
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    throw new InvalidConfigError(
      `--inspect must be a WebSocket URL such as ws://127.0.0.1:8080 (got ${raw})`,
    );
  }
  if (url.protocol !== 'ws:' && url.protocol !== 'wss:') {
    throw new InvalidConfigError(`--inspect must be a ws:// or wss:// URL (got ${raw})`);
  }
  return url.href;
}
