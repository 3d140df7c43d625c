/**
 * The lines `gatekeeper run` writes to stderr: `<ISO time> <LEVEL> gatekeeper run: <message>`,
 * then the details kafkajs attached (broker, topic, the error's cause chain…) as `key=value`.
 * Secrets never reach a line, at any level: URL credentials are masked and every configured
 * password (SASL, Redis, TLS key passphrase) is replaced wherever it appears.
 */
import { scrubUrlCredentials } from '../observe/logger.ts';

export type RunLineLevel = 'error' | 'warn' | 'info';

const MAX_DETAIL = 300;
const HIDDEN = new Set(['stack', 'timestamp', 'logger', 'password', 'sasl']);

export function runLogLine(
  level: RunLineLevel,
  message: string,
  extra: Record<string, unknown> | undefined,
  secrets: readonly string[],
  now: Date = new Date(),
): string {
  const details = Object.entries(extra ?? {})
    .filter(([key, value]) => value !== undefined && !HIDDEN.has(key))
    .map(([key, value]) => `${key}=${detail(value)}`);
  const text = `${now.toISOString()} ${level.toUpperCase().padEnd(5)} gatekeeper run: ${message}${
    details.length > 0 ? ` (${details.join(', ')})` : ''
  }`;
  return redact(text, secrets);
}

/** The passwords a run configuration carries (masked in every line). */
export function secretsOf(config: Record<string, unknown>): string[] {
  const found: string[] = [];
  const take = (value: unknown) => {
    if (typeof value === 'string' && value.length >= 3) found.push(value);
  };
  const field = (value: unknown, name: string): unknown =>
    typeof value === 'object' && value !== null ? (value as Record<string, unknown>)[name] : undefined;
  take(field(config.sasl, 'password'));
  take(field(config.redis, 'password'));
  take(field(config.ssl, 'passphrase'));
  take(field(field(config.redis, 'tls'), 'passphrase'));
  if (typeof config.redis === 'string') {
    try {
      take(decodeURIComponent(new URL(config.redis).password));
    } catch {
      // not a URL: the config check reports it
    }
  }
  return found;
}

function redact(text: string, secrets: readonly string[]): string {
  let out = scrubUrlCredentials(text);
  for (const secret of secrets) out = out.split(secret).join('[redacted]');
  return out;
}

function detail(value: unknown): string {
  let text: string;
  if (value instanceof Error) text = value.message;
  else if (typeof value === 'string') text = value;
  else if (typeof value === 'number' || typeof value === 'boolean' || typeof value === 'bigint')
    text = String(value);
  else {
    try {
      text = JSON.stringify(value) ?? String(value);
    } catch {
      text = Object.prototype.toString.call(value);
    }
  }
  return text.length > MAX_DETAIL ? `${text.slice(0, MAX_DETAIL)}…` : text;
}
