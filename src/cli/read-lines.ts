/**
 * Reads NDJSON input line by line from a file or stdin, as bytes, with a bound: a line longer than
 * `maxLineBytes` is never held whole (only its first `keepBytes`, its size and a SHA-256 of all of
 * it), so any input runs in bounded memory. Each line is decoded as strict UTF-8: invalid bytes are
 * reported, not replaced by U+FFFD (which would make distinct keys the same).
 */
import { createHash, type Hash } from 'node:crypto';
import { createReadStream, existsSync } from 'node:fs';
import { InvalidConfigError } from '../core/errors.ts';

/** One input line: its text, or why it has none. `number` counts from 1; `bytes` excludes the line break. */
export type InputLine =
  | { kind: 'text'; number: number; bytes: number; text: string }
  | { kind: 'too-large'; number: number; bytes: number; head: Buffer; sha256: string }
  | { kind: 'invalid-utf8'; number: number; bytes: number; head: Buffer; sha256: string; at: number };

export interface LineBounds {
  /** Longest line accepted, in bytes. */
  maxLineBytes: number;
  /** Bytes of a refused line kept for its dead letter. */
  keepBytes: number;
}

/** Default longest line of `check`: 1 MiB. */
export const DEFAULT_MAX_LINE_BYTES = 1_048_576;

export function readLines(
  path: string | undefined,
  stdin: NodeJS.ReadableStream,
  bounds: LineBounds,
): AsyncIterable<InputLine> {
  if (path !== undefined && path !== '-' && !existsSync(path))
    throw new InvalidConfigError(`input file not found: ${path}`);
  const input = path === undefined || path === '-' ? stdin : createReadStream(path);
  return splitLines(input, bounds);
}

const NEWLINE = 0x0a;
const strict = new TextDecoder('utf-8', { fatal: true });

async function* splitLines(input: NodeJS.ReadableStream, bounds: LineBounds): AsyncGenerator<InputLine> {
  let parts: Buffer[] = [];
  let size = 0;
  let number = 0;
  // Set once the current line passed maxLineBytes: from then on only hashed and counted.
  let oversized: { head: Buffer; hash: Hash } | undefined;

  const take = (piece: Buffer) => {
    if (piece.length === 0) return;
    size += piece.length;
    if (oversized) {
      oversized.hash.update(piece);
      return;
    }
    parts.push(piece);
    if (size > bounds.maxLineBytes) {
      const held = Buffer.concat(parts);
      oversized = {
        head: Buffer.from(held.subarray(0, bounds.keepBytes)),
        hash: createHash('sha256').update(held),
      };
      parts = [];
    }
  };
  const finish = (): InputLine => {
    number += 1;
    let line: InputLine;
    if (oversized) {
      line = {
        kind: 'too-large',
        number,
        bytes: size,
        head: oversized.head,
        sha256: oversized.hash.digest('hex'),
      };
    } else {
      let bytes = parts.length === 1 ? (parts[0] as Buffer) : Buffer.concat(parts);
      if (bytes.at(-1) === 0x0d) bytes = bytes.subarray(0, -1); // CRLF input
      line = decode(bytes, number, bounds.keepBytes);
    }
    parts = [];
    size = 0;
    oversized = undefined;
    return line;
  };

  for await (const chunk of input) {
    const buffer = typeof chunk === 'string' ? Buffer.from(chunk) : chunk;
    let start = 0;
    for (let end = buffer.indexOf(NEWLINE); end >= 0; end = buffer.indexOf(NEWLINE, start)) {
      take(buffer.subarray(start, end));
      start = end + 1;
      yield finish();
    }
    take(buffer.subarray(start));
  }
  if (size > 0) yield finish();
}

function decode(bytes: Buffer, number: number, keepBytes: number): InputLine {
  try {
    return { kind: 'text', number, bytes: bytes.length, text: strict.decode(bytes) };
  } catch {
    return {
      kind: 'invalid-utf8',
      number,
      bytes: bytes.length,
      head: Buffer.from(bytes.subarray(0, keepBytes)),
      sha256: createHash('sha256').update(bytes).digest('hex'),
      at: firstInvalidByte(bytes),
    };
  }
}

/** The offset of the first byte that does not start or continue a valid UTF-8 sequence. */
function firstInvalidByte(bytes: Buffer): number {
  let low = 0;
  let high = bytes.length;
  // The longest valid prefix, by bisection (decoding a prefix cut inside a character fails too,
  // so the answer may be up to 3 bytes early: close enough to point at).
  while (low < high) {
    const middle = Math.ceil((low + high) / 2);
    try {
      strict.decode(bytes.subarray(0, middle));
      low = middle;
    } catch {
      high = middle - 1;
    }
  }
  return low;
}
