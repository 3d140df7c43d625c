/**
 * A fingerprint of any value, for dead letters that must leave the value itself out (too large,
 * or impossible to serialise): it lets an operator match the letter to the input it stood for.
 * The walk uses an explicit stack, so no nesting depth can overflow it, and a cycle is hashed as a
 * marker instead of looping forever.
 */
import { createHash } from 'node:crypto';

/** `sha256:<hex>` of a text (its UTF-8 bytes): the same as hashing the input record's value. */
export function textHash(text: string): string {
  return `sha256:${createHash('sha256').update(text, 'utf8').digest('hex')}`;
}

/**
 * `sha256:<hex>` of a value: of its text when it is a string, else of a canonical token stream
 * (type markers, keys in their own order, primitive values). Never throws.
 */
export function valueHash(value: unknown): string {
  if (typeof value === 'string') return textHash(value);
  const hash = createHash('sha256');
  const seen = new Set<object>();
  const stack: unknown[] = [value];
  while (stack.length > 0) {
    const item = stack.pop();
    if (typeof item === 'object' && item !== null) {
      if (seen.has(item)) {
        hash.update('<cycle>');
        continue;
      }
      seen.add(item);
      if (Array.isArray(item)) {
        hash.update(`[${item.length}`);
        for (let index = item.length - 1; index >= 0; index -= 1) stack.push(item[index]);
      } else {
        const entries = safeEntries(item);
        hash.update(`{${entries.length}`);
        for (let index = entries.length - 1; index >= 0; index -= 1) {
          const [key, field] = entries[index] as [string, unknown];
          stack.push(field);
          stack.push(`${key}:`);
        }
      }
    } else hash.update(`${typeof item}:${safeString(item)};`);
  }
  return `sha256:${hash.digest('hex')}`;
}

function safeEntries(value: object): [string, unknown][] {
  try {
    return Object.entries(value);
  } catch {
    return [];
  }
}

function safeString(value: unknown): string {
  try {
    return String(value);
  } catch {
    return '?';
  }
}
