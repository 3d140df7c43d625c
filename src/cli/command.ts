/**
 * What a CLI command is. Commands receive parsed flags and the process streams, and return an
 * exit code; only main() touches process.exit.
 */
import type { ParseArgsConfig } from 'node:util';
import { UsageError } from './usage-error.ts';

export interface CliIO {
  stdout: NodeJS.WritableStream;
  stderr: NodeJS.WritableStream;
  stdin: NodeJS.ReadableStream;
  /** True when stdout/stderr is an interactive terminal (progress is shown only then). */
  interactive: boolean;
  env: NodeJS.ProcessEnv;
  /** For long-running commands: resolves on SIGINT/SIGTERM (the handlers are installed on first call). */
  stopSignal(): Promise<string>;
}

export type FlagValues = Record<string, string | boolean | string[] | boolean[] | undefined>;

export interface Command {
  name: string;
  usage: string;
  options: NonNullable<ParseArgsConfig['options']>;
  /** Allow positional arguments (file names, aggregate and key). */
  positionals?: boolean;
  run(flags: FlagValues, positionals: string[], io: CliIO): Promise<number>;
}

/**
 * Exit codes: 0 done; 1 failed (unreadable input, a store that cannot be opened or is refused, an
 * unknown entity); 2 wrong command line; 3 a decision failed mid-run (the store failed): every
 * outcome decided was printed, and the lines whose outcome is unknown were named.
 */
export const EXIT = { ok: 0, failure: 1, usage: 2, decisionFailed: 3 } as const;

/** A flag's string value, or undefined. */
export function stringFlag(flags: FlagValues, name: string): string | undefined {
  const value = flags[name];
  return typeof value === 'string' ? value : undefined;
}

/** A positive integer flag, or `fallback` when absent; anything else is a usage error. */
export function intFlag(flags: FlagValues, name: string, fallback: number): number {
  const raw = stringFlag(flags, name);
  if (raw === undefined) return fallback;
  const parsed = Number(raw);
  if (!Number.isSafeInteger(parsed) || parsed <= 0)
    throw new UsageError(`--${name} must be a positive integer (got ${raw})`);
  return parsed;
}

export function booleanFlag(flags: FlagValues, name: string): boolean {
  return flags[name] === true;
}

export function write(stream: NodeJS.WritableStream, text: string): void {
  stream.write(text.endsWith('\n') ? text : `${text}\n`);
}
