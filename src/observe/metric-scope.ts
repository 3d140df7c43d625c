/**
 * Where one gatekeeper process's metrics live: its own prom-client Registry and its name prefix.
 * Every metrics file builds its counters, gauges and histograms through one scope, so each name
 * is prefixed and registered the same way.
 */
import {
  Counter,
  Gauge,
  Histogram,
  type CounterConfiguration,
  type GaugeConfiguration,
  type HistogramConfiguration,
  type Registry,
} from 'prom-client';

/** A metric's configuration without what the scope supplies (its prefixed name and registry). */
type Unnamed<TConfig> = Omit<TConfig, 'name' | 'registers'>;

/** Builds metrics named under one prefix into one registry. */
export class MetricScope {
  private readonly registers: Registry[];

  /** `prefix` replaces the default "gatekeeper_" of every documented name. */
  constructor(
    registry: Registry,
    private readonly prefix: string,
  ) {
    this.registers = [registry];
  }

  /** A documented name (METRIC_NAMES, with the default prefix) under this scope's prefix. */
  name(metric: string): string {
    return `${this.prefix}${metric.slice('gatekeeper_'.length)}`;
  }

  counter<TLabel extends string = string>(
    metric: string,
    config: Unnamed<CounterConfiguration<TLabel>>,
  ): Counter<TLabel> {
    return new Counter({ ...config, name: this.name(metric), registers: this.registers });
  }

  gauge<TLabel extends string = string>(
    metric: string,
    config: Unnamed<GaugeConfiguration<TLabel>>,
  ): Gauge<TLabel> {
    return new Gauge({ ...config, name: this.name(metric), registers: this.registers });
  }

  histogram<TLabel extends string = string>(
    metric: string,
    config: Unnamed<HistogramConfiguration<TLabel>>,
  ): Histogram<TLabel> {
    return new Histogram({ ...config, name: this.name(metric), registers: this.registers });
  }
}
