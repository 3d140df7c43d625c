/**
 * The store's Lua scripts: read from lua/*.lua once, with `--- @include "name"` lines replaced by
 * lua/includes/name.lua, and registered on a client with ioredis `defineCommand` (EVAL once per
 * connection, EVALSHA afterwards, re-sent on NOSCRIPT). Command names carry a digest of the script's
 * text, so two gatekeeper versions sharing one client never call each other's scripts (and two
 * copies with the same script share one definition harmlessly).
 */
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import type { Cluster, Redis } from 'ioredis';

export type RedisClient = Redis | Cluster;

/** One script: its command name on the client and how many KEYS it takes (undefined: given per call). */
interface ScriptDefinition {
  command: string;
  numberOfKeys: number | undefined;
  lua: string;
}

const LUA_DIR = new URL('./lua/', import.meta.url);
const INCLUDE = /^--- @include "([\w-]+)"\s*$/gm;

/** `operation-N.lua` takes N keys; `operation.lua` takes as many as each call passes. */
function loadScript(operation: string, numberOfKeys?: number): ScriptDefinition {
  const included = new Set<string>();
  const expand = (source: string): string =>
    source.replace(INCLUDE, (_line, name: string) => {
      if (included.has(name)) return '';
      included.add(name);
      return expand(readFileSync(new URL(`includes/${name}.lua`, LUA_DIR), 'utf8'));
    });
  const file = numberOfKeys === undefined ? `${operation}.lua` : `${operation}-${numberOfKeys}.lua`;
  const lua = expand(readFileSync(new URL(file, LUA_DIR), 'utf8'));
  const digest = createHash('sha1').update(lua).digest('hex').slice(0, 12);
  return { command: `gatekeeper_${operation}_${digest}`, numberOfKeys, lua };
}

const SCRIPTS = {
  commitBatch: loadScript('commitBatch'),
  claimNamespace: loadScript('claimNamespace', 1),
  recordDeadLetter: loadScript('recordDeadLetter', 4),
  ackDeadLetters: loadScript('ackDeadLetters', 3),
  claimShard: loadScript('claimShard', 1),
  fencedDelete: loadScript('fencedDelete', 2),
  ackEffects: loadScript('ackEffects', 3),
  holdEffects: loadScript('holdEffects', 4),
  countEffectFailure: loadScript('countEffectFailure', 2),
  failEffect: loadScript('failEffect', 6),
  releaseHeldEffect: loadScript('releaseHeldEffect', 4),
  retryEffect: loadScript('retryEffect', 4),
  skipEffect: loadScript('skipEffect', 2),
  loadBatch: loadScript('loadBatch'),
} as const;

export type ScriptName = keyof typeof SCRIPTS;
type ScriptCall = (...args: (string | number)[]) => Promise<unknown>;

/** Registers every script on the client (idempotent: defining a command twice replaces it). */
export function defineScripts(client: RedisClient): void {
  for (const script of Object.values(SCRIPTS)) {
    client.defineCommand(script.command, {
      ...(script.numberOfKeys === undefined ? {} : { numberOfKeys: script.numberOfKeys }),
      lua: script.lua,
    });
  }
  if (client.isCluster) keepOutOfAutoPipelines(client as Cluster);
}

/**
 * On a Cluster, ioredis' auto-pipelining groups a command by the slot of its first argument, which
 * for a script taking a variable number of keys is the key count, not a key: two batches of the
 * same size for shards on different masters land in one pipeline, which ioredis then refuses
 * ("All keys in the pipeline should belong to the same slots allocation group"). Those scripts
 * are sent as single commands instead, routed by their first key (they batch on their own).
 */
function keepOutOfAutoPipelines(client: Cluster): void {
  const ignored = client.options.autoPipeliningIgnoredCommands ?? [];
  for (const script of Object.values(SCRIPTS))
    if (script.numberOfKeys === undefined && !ignored.includes(script.command)) ignored.push(script.command);
  client.options.autoPipeliningIgnoredCommands = ignored;
}

/** Calls one script through its defined command; keys first, then args. */
export function runScript(
  client: RedisClient,
  name: ScriptName,
  keys: readonly string[],
  args: readonly (string | number)[],
): Promise<unknown> {
  const script = SCRIPTS[name];
  if (script.numberOfKeys !== undefined && keys.length !== script.numberOfKeys) {
    throw new RangeError(`script ${name} takes ${script.numberOfKeys} keys, got ${keys.length}`);
  }
  const call = (client as unknown as Record<string, ScriptCall | undefined>)[script.command];
  if (typeof call !== 'function')
    throw new Error(`script ${name} is not defined on this client (defineScripts first)`);
  const callArgs: (string | number)[] = script.numberOfKeys === undefined ? [keys.length] : [];
  // Loops, not spreads: a batch can carry thousands of arguments.
  for (const key of keys) callArgs.push(key);
  for (const arg of args) callArgs.push(arg);
  return call.apply(client, callArgs);
}

/** The text of a script as sent to Redis (for tests and tooling). */
export function scriptSource(name: ScriptName): string {
  return SCRIPTS[name].lua;
}
