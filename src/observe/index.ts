/**
 * Seeing it: exporting and drawing machines, entity histories, Prometheus metrics, structured logs,
 * live inspection and the local web view. Kept apart from the main entry so an embedded
 * gatekeeper never loads prom-client, pino, ws or elkjs unless it asks for them.
 */
export {
  EXPORT_FORMATS,
  exportMachine,
  machineModel,
  machinesMarkdown,
  modelToDot,
  modelToMermaid,
  toDot,
  toJson,
  toMachineConfig,
  toMermaid,
  toStudioSource,
  transitionLabel,
  type ExportFormat,
  type JsonValue,
  type MachineModel,
  type MermaidDecorations,
  type StateModel,
  type TransitionModel,
} from './export/index.ts';
export { entityPath, type EntityPath, type HeldEvent, type PathStep } from './history/entity-path.ts';
export {
  HISTORY_FORMATS,
  historyMermaid,
  historyText,
  renderHistory,
  type HistoryFormat,
  type HistoryTitle,
} from './history/render-history.ts';
export {
  createMetrics,
  METRIC_NAMES,
  type GatekeeperMetrics,
  type KafkaMetricsHooks,
  type MetricsOptions,
} from './metrics.ts';
export { EFFECT_METRIC_NAMES } from './effect-metrics.ts';
export { startMetricsServer, type MetricsServer, type MetricsServerOptions } from './metrics-server.ts';
export {
  createLogger,
  REDACT_PATHS,
  scrubUrlCredentials,
  type Logger,
  type LoggerOptions,
} from './logger.ts';
export { connectInspector, type InspectorConnection, type InspectorOptions } from './inspect.ts';
export { startObservers, type ObserverOptions, type Observers } from './observers.ts';
export { startUiServer, type UiServer, type UiServerOptions } from './ui/ui-server.ts';
export { LiveView, type LiveStats, type AggregateStats } from './ui/live-view.ts';
