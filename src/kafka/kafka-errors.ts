/**
 * What a Kafka failure was, in one line an operator can act on. kafkajs wraps the broker's answer
 * in layers ("Connection error" ← "Number of retries exceeded" ← the TLS or SASL error) and keeps
 * the useful parts in fields (`broker`, `type` — the broker's error name such as
 * TOPIC_AUTHORIZATION_FAILED —, `code`, `topic`); this walks the chain and keeps them all.
 */
import { GatekeeperError } from '../core/errors.ts';

/** `runGatekeeper` could not start: the brokers could not be reached, refused us, or a topic is missing. */
export class KafkaStartError extends GatekeeperError {
  constructor(message: string, cause?: unknown) {
    super(message, { code: 'KAFKA_START', cause });
    this.name = 'KafkaStartError';
  }
}

const MAX_CHAIN = 8;

/**
 * `message [TYPE, broker host:port, topic t] ← cause [...]`, each distinct message once, no stack.
 * Accepts anything thrown.
 */
export function describeKafkaError(thrown: unknown): string {
  const parts: { message: string; details: string[] }[] = [];
  let cause: unknown = thrown;
  for (let depth = 0; depth < MAX_CHAIN && cause !== undefined && cause !== null; depth += 1) {
    const { message, details, next } = layer(cause);
    // A wrapper repeating its cause's message (kafkajs's retries-exceeded) adds only its details.
    const same = parts.find((part) => part.message === message);
    if (same) {
      for (const detail of details) if (!same.details.includes(detail)) same.details.push(detail);
    } else if (message !== '' || details.length > 0) {
      parts.push({ message, details: [...details] });
    }
    cause = next;
  }
  const text = parts.map(({ message, details }) =>
    details.length > 0 ? `${message} [${details.join(', ')}]`.trim() : message,
  );
  return text.join(' ← ') || 'unknown error';
}

function layer(value: unknown): { message: string; details: string[]; next: unknown } {
  if (!(value instanceof Error)) return { message: String(value), details: [], next: undefined };
  const fields = value as Error & Record<string, unknown>;
  const details: string[] = [];
  const type = typeof fields.type === 'string' ? fields.type : undefined;
  if (type !== undefined) details.push(type);
  else if (typeof fields.code === 'string' || typeof fields.code === 'number')
    details.push(`code ${String(fields.code)}`);
  if (typeof fields.broker === 'string') details.push(`broker ${fields.broker}`);
  else if (typeof fields.host === 'string' && typeof fields.port === 'number')
    details.push(`broker ${fields.host}:${fields.port}`);
  if (typeof fields.topic === 'string') details.push(`topic ${fields.topic}`);
  // kafkajs keeps a wrapped error in `originalError` on some errors, in `cause` on others.
  const next = value.cause ?? fields.originalError;
  return { message: value.message, details, next };
}
