/**
 * How deeply a JSON text nests, found by one linear scan and no recursion, so input too deep for
 * the recursive work that follows (JSON.parse, zod, JSON.stringify into a store: V8's stringify
 * overflows its stack at ~5,000 levels while parse accepts ~20,000) is refused before any of it.
 */

/** The default deepest nesting accepted: far beyond any real event, far below any stack limit. */
export const DEFAULT_MAX_JSON_DEPTH = 64;

/**
 * The nesting depth of `text` if it stays within `max`, else the first depth past it (`max + 1`),
 * found without reading further. Brackets inside strings do not count; the text need not be valid
 * JSON (the parser judges that afterwards).
 */
export function jsonDepth(text: string, max: number): number {
  let depth = 0;
  let deepest = 0;
  let inString = false;
  for (let index = 0; index < text.length; index += 1) {
    const code = text.charCodeAt(index);
    if (inString) {
      if (code === 0x5c)
        index += 1; // backslash: skip the escaped character
      else if (code === 0x22) inString = false;
      continue;
    }
    if (code === 0x22) inString = true;
    else if (code === 0x7b || code === 0x5b) {
      depth += 1;
      if (depth > deepest) {
        deepest = depth;
        if (deepest > max) return deepest;
      }
    } else if (code === 0x7d || code === 0x5d) depth -= 1;
  }
  return deepest;
}
