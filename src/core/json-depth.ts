/**
 * How deeply a JSON text nests, measured on the text itself without parsing it: JSON.parse accepts
 * ~20,000 levels but JSON.stringify overflows the stack at ~5,000, so a value parsed from hostile
 * input could be decided and then fail to be stored or published. Checking the text first keeps
 * every later step (zod, the stores, the relays) on values they can always serialise.
 */

/** Most nesting levels an input value may have (an event envelope needs 3 or 4). */
export const MAX_JSON_DEPTH = 256;

/**
 * The deepest nesting of `[` / `{` in `text`, ignoring brackets inside strings; stops counting
 * (and returns a value above `stopAt`) as soon as it passes `stopAt`. Malformed text is measured
 * as far as it goes; JSON.parse reports what is wrong with it.
 */
export function jsonDepth(text: string, stopAt: number = MAX_JSON_DEPTH): number {
  let depth = 0;
  let deepest = 0;
  let inString = false;
  for (let at = 0; at < text.length; at += 1) {
    const code = text.charCodeAt(at);
    if (inString) {
      if (code === 0x5c /* \ */) at += 1;
      else if (code === 0x22 /* " */) inString = false;
    } else if (code === 0x22) inString = true;
    else if (code === 0x7b /* { */ || code === 0x5b /* [ */) {
      depth += 1;
      if (depth > deepest) {
        deepest = depth;
        if (deepest > stopAt) return deepest;
      }
    } else if (code === 0x7d /* } */ || code === 0x5d /* ] */) depth -= 1;
  }
  return deepest;
}
