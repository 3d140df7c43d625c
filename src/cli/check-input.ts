/**
 * How `check` turns one input line into a decision: refused lines (too large, not UTF-8, nested
 * too deep, not JSON) are rejected with a reason and a dead letter that keeps at most `keepBytes`
 * of the raw input (with its size and SHA-256); everything else goes to the gatekeeper.
 */
import { createHash } from 'node:crypto';
import { messageOf } from '../core/errors.ts';
import { parseEnvelope } from '../core/envelope.ts';
import { jsonDepth } from '../core/json-depth.ts';
import type { Gatekeeper, HandleResult } from '../gatekeeper/gatekeeper.ts';
import type { InputLine } from './read-lines.ts';

export interface InputLimits {
  maxLineBytes: number;
  keepBytes: number;
  maxDepth: number;
}

/** What a dead letter keeps of an input it could not keep whole. */
export type ReducedRaw =
  | { truncated: true; head: string; bytes: number; sha256: string }
  | { encoding: 'base64'; head: string; truncated: boolean; bytes: number; sha256: string };

/** The identity an input line named, for naming it when its outcome is unknown. */
export interface LineIdentity {
  id: string | null;
  aggregate: string | null;
  key: string | null;
  seq: number | null;
  type: string | null;
}

export interface HandledLine {
  result: HandleResult;
  /** The entity the event belongs to, when its aggregate is known (for --final). */
  entity?: { aggregate: string; key: string };
}

/** The identity of a parsed line, as far as it names one. */
export function identityOf(parsed: unknown): LineIdentity {
  const record = typeof parsed === 'object' && parsed !== null ? (parsed as Record<string, unknown>) : {};
  const text = (value: unknown) => (typeof value === 'string' ? value : null);
  return {
    id: text(record.id),
    aggregate: text(record.aggregate),
    key: text(record.key),
    seq: typeof record.seq === 'number' ? record.seq : null,
    type: text(record.type),
  };
}

/**
 * Decides one line. `onParsed` hears the parsed value as soon as there is one, so a caller can
 * still name the line if its decision fails.
 */
export async function handleInputLine(
  line: InputLine,
  gatekeeper: Gatekeeper,
  limits: InputLimits,
  onParsed: (parsed: unknown) => void,
): Promise<HandledLine> {
  const where = `line ${line.number}`;
  if (line.kind === 'too-large') {
    const raw: ReducedRaw = {
      truncated: true,
      head: line.head.toString('utf8'),
      bytes: line.bytes,
      sha256: line.sha256,
    };
    return {
      result: await gatekeeper.rejectInput(
        raw,
        'input-too-large',
        `${where} is ${line.bytes} bytes, over the limit of ${limits.maxLineBytes} (--max-line-bytes)`,
      ),
    };
  }
  if (line.kind === 'invalid-utf8') {
    const raw: ReducedRaw = {
      encoding: 'base64',
      head: line.head.toString('base64'),
      truncated: line.head.length < line.bytes,
      bytes: line.bytes,
      sha256: line.sha256,
    };
    return {
      result: await gatekeeper.rejectUnparseable(
        raw,
        `${where} is not valid UTF-8 (first invalid byte near offset ${line.at}); it is kept as bytes`,
      ),
    };
  }
  const { text } = line;
  const depth = jsonDepth(text, Number.POSITIVE_INFINITY);
  if (depth > limits.maxDepth) {
    return {
      result: await gatekeeper.rejectUnparseable(
        reduceText(text, limits.keepBytes),
        `${where} nests ${depth} levels deep, over the limit of ${limits.maxDepth} (--max-depth)`,
      ),
    };
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (error) {
    return {
      result: await gatekeeper.rejectUnparseable(
        reduceText(text, limits.keepBytes),
        `${where} is not JSON: ${messageOf(error)}`,
      ),
    };
  }
  onParsed(parsed);
  if (
    (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) &&
    line.bytes > limits.keepBytes
  ) {
    // Never an envelope; kept reduced like any other oversized garbage.
    return {
      result: await gatekeeper.rejectUnparseable(
        reduceText(text, limits.keepBytes),
        `${where} is not an event envelope: a JSON ${Array.isArray(parsed) ? 'array' : typeof parsed}, not an object`,
      ),
    };
  }
  if (line.bytes > limits.keepBytes) {
    // An oversized object that is no valid envelope would be dead-lettered whole: reduced instead.
    const envelope = parseEnvelope(parsed);
    if (!envelope.ok)
      return {
        result: await gatekeeper.rejectUnparseable(
          reduceText(text, limits.keepBytes),
          `invalid event envelope: ${envelope.message}`,
        ),
      };
  }
  const result = await gatekeeper.handle(parsed);
  const own = result.outcome;
  const known = own.aggregate !== null && own.key !== null && gatekeeper.aggregates.has(own.aggregate);
  return known
    ? { result, entity: { aggregate: own.aggregate as string, key: own.key as string } }
    : { result };
}

/** The text itself when it fits in `keepBytes`, else its first `keepBytes` bytes, size and hash. */
export function reduceText(text: string, keepBytes: number): string | ReducedRaw {
  const bytes = Buffer.byteLength(text);
  if (bytes <= keepBytes) return text;
  const encoded = Buffer.from(text);
  return {
    truncated: true,
    // Cut on a character boundary: drop a partial UTF-8 sequence at the end.
    head: encoded
      .subarray(0, keepBytes)
      .toString('utf8')
      .replace(/\uFFFD+$/, ''),
    bytes,
    sha256: createHash('sha256').update(encoded).digest('hex'),
  };
}
