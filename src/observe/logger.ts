/**
 * Structured JSON logs (pino). Secrets never reach the output: known secret fields are redacted by
 * path, and every string logged (messages, fields, error messages and stacks) has the credentials
 * of URLs (`redis://user:pass@host`) replaced, at every level including debug.
 */
import { destination, pino, type DestinationStream, type Level, type Logger } from 'pino';

export type { Logger } from 'pino';

/** Field paths whose values are always replaced by "[redacted]". */
export const REDACT_PATHS: readonly string[] = [
  'password',
  '*.password',
  '*.*.password',
  'pass',
  '*.pass',
  'secret',
  '*.secret',
  '*.*.secret',
  'token',
  '*.token',
  'accessToken',
  '*.accessToken',
  'apiKey',
  '*.apiKey',
  'authorization',
  '*.authorization',
  '*.headers.authorization',
  '*.headers.cookie',
  'sasl',
  '*.sasl',
  '*.*.sasl',
  'ssl.key',
  '*.ssl.key',
  'ssl.passphrase',
  '*.ssl.passphrase',
  'tls.key',
  '*.tls.key',
  'tls.passphrase',
  '*.tls.passphrase',
];

const CENSOR = '[redacted]';

export interface LoggerOptions {
  /** Default "info"; "silent" turns logging off. */
  level?: Level | 'silent';
  /** Added to every line as `name`. */
  name?: string;
  /** Where lines go (default stderr, so stdout stays for command output). */
  destination?: DestinationStream;
  /** More paths to redact, in pino's redact syntax. */
  redact?: readonly string[];
}

export function createLogger(options: LoggerOptions = {}): Logger {
  return pino(
    {
      level: options.level ?? 'info',
      ...(options.name === undefined ? {} : { name: options.name }),
      redact: { paths: [...REDACT_PATHS, ...(options.redact ?? [])], censor: CENSOR },
      hooks: {
        logMethod(args, method) {
          method.apply(this, args.map((arg) => scrub(arg, 0)) as Parameters<typeof method>);
        },
      },
    },
    options.destination ?? destination(2),
  );
}

/**
 * `scheme://user:pass@host` and `scheme://:pass@host` → `scheme://[redacted]@host`. The user info
 * runs to the LAST `@` before whitespace, so a password holding `@`, `:` or `/` is hidden whole.
 */
export function scrubUrlCredentials(text: string): string {
  return text.replace(/\b([a-z][a-z0-9+.-]*:\/\/)\S*@/gi, (_match, scheme: string) => `${scheme}${CENSOR}@`);
}

const MAX_DEPTH = 8;

/** A copy of `value` with every string scrubbed (plain objects, arrays and errors are walked). */
function scrub(value: unknown, depth: number): unknown {
  if (typeof value === 'string') return scrubUrlCredentials(value);
  if (typeof value !== 'object' || value === null || depth > MAX_DEPTH) return value;
  if (value instanceof Error) {
    // Same prototype, so pino's error serializer still reports the right `type`.
    const copy = Object.create(Object.getPrototypeOf(value) as object) as Error & Record<string, unknown>;
    for (const [key, field] of Object.entries(value)) copy[key] = scrub(field, depth + 1);
    copy.message = scrubUrlCredentials(value.message);
    if (value.stack !== undefined) copy.stack = scrubUrlCredentials(value.stack);
    if (value.cause !== undefined) copy.cause = scrub(value.cause, depth + 1);
    return copy;
  }
  if (Array.isArray(value)) return value.map((item) => scrub(item, depth + 1));
  const prototype: unknown = Object.getPrototypeOf(value);
  if (prototype !== Object.prototype && prototype !== null) return value;
  const copy: Record<string, unknown> = {};
  for (const [key, field] of Object.entries(value)) copy[key] = scrub(field, depth + 1);
  return copy;
}
