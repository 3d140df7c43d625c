/** Reads NDJSON input line by line from a file or stdin. */
import { createReadStream, existsSync } from 'node:fs';
import { createInterface } from 'node:readline';
import { InvalidConfigError } from '../core/errors.ts';

export function readLines(path: string | undefined, stdin: NodeJS.ReadableStream): AsyncIterable<string> {
  if (path !== undefined && path !== '-' && !existsSync(path))
    throw new InvalidConfigError(`input file not found: ${path}`);
  const input = path === undefined || path === '-' ? stdin : createReadStream(path, { encoding: 'utf8' });
  return createInterface({ input, crlfDelay: Infinity });
}
