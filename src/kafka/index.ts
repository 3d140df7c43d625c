/**
 * The Kafka runtime: the gatekeeper as a kafkajs consumer-group member with an outbox relay and a
 * dead-letter relay. Imported on its own (`src/kafka/index.ts`) so embedded use never loads kafkajs.
 */
export {
  runGatekeeper,
  type RunningGatekeeper,
  type RunOptions,
  type RunLogger,
  type RunLogLevel,
} from './runner.ts';
export {
  parseRunConfig,
  runConfigSchema,
  type RunConfig,
  type RunConfigInput,
  type RunLimits,
} from './config.ts';
export { loadRunConfigFile } from './config-file.ts';
export type { KafkaRuntimeMetrics, RelayKind } from './metrics.ts';
export type {
  EffectsOptions,
  TransitionHandler,
  TransitionEffectContext,
} from '../gatekeeper/effects/options.ts';
export { HEADERS, transitionIdentity, type OutputRecordValue } from './output-records.ts';
export type { SourceCoordinates, UnparseableRecord } from './record.ts';
