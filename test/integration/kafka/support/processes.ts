/** `gatekeeper run` as a child process (the real CLI), for the end-to-end tests. */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { RunConfigInput } from '../../../../src/kafka/index.ts';

const ROOT = fileURLToPath(new URL('../../../../', import.meta.url));
const BIN = join(ROOT, 'bin/gatekeeper.mjs');

export interface GatekeeperProcess {
  readonly name: string;
  readonly child: ChildProcess;
  /** Everything the process wrote to stderr so far. */
  log(): string;
  /** Resolves when stderr shows the consumer loop started. */
  consuming: Promise<void>;
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  kill(signal: NodeJS.Signals): void;
}

/** Writes the config as JSON (machines made absolute) and returns its path. */
export function writeConfig(config: RunConfigInput): string {
  const file = join(mkdtempSync(join(tmpdir(), 'gk-run-')), 'gatekeeper.json');
  const machines = typeof config.machines === 'string' ? resolve(ROOT, config.machines) : config.machines;
  writeFileSync(file, JSON.stringify({ ...config, machines }, null, 2));
  return file;
}

export function startGatekeeper(
  name: string,
  configFile: string,
  extraArgs: string[] = [],
  env: Record<string, string> = {},
): GatekeeperProcess {
  return startProcess(name, [BIN, 'run', '--config', configFile, ...extraArgs], {
    cwd: ROOT,
    env,
    readyText: 'gatekeeper run: consuming',
  });
}

/**
 * Runs `node <args>` as a child process; `consuming` resolves once its stderr contains
 * `readyText` (and rejects if it exits first).
 */
export function startProcess(
  name: string,
  args: string[],
  options: { cwd: string; env?: Record<string, string>; readyText: string },
): GatekeeperProcess {
  const child = spawn(process.execPath, args, {
    cwd: options.cwd,
    stdio: ['ignore', 'pipe', 'pipe'],
    env: { ...process.env, ...options.env },
  });
  let stderr = '';
  let signalConsuming: () => void = () => undefined;
  const consuming = new Promise<void>((resolve) => {
    signalConsuming = resolve;
  });
  child.stderr?.setEncoding('utf8');
  child.stderr?.on('data', (chunk: string) => {
    stderr += chunk;
    if (stderr.includes(options.readyText)) signalConsuming();
  });
  child.stdout?.resume();
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
    child.once('exit', (code, signal) => resolve({ code, signal })),
  );
  return {
    name,
    child,
    log: () => stderr,
    consuming: Promise.race([
      consuming,
      exited.then(({ code, signal }) => {
        throw new Error(`${name} exited (code ${code}, signal ${signal}) before consuming:\n${stderr}`);
      }),
    ]),
    exited,
    kill: (signal) => {
      if (child.exitCode === null && child.signalCode === null) child.kill(signal);
    },
  };
}

/** The input partitions a process's latest assignment gave it (it decides and publishes them), from its log. */
export function ownedPartitions(process: GatekeeperProcess): number[] {
  const lines = process.log().match(/assigned partitions ([^;]*);/g) ?? [];
  const last = lines.at(-1)?.slice('assigned partitions '.length, -1) ?? '(none)';
  return last === '(none)' ? [] : last.split(', ').map(Number);
}
