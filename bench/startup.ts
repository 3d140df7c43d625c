/**
 * CLI start-up: wall time and peak RSS of `gatekeeper --help` and `gatekeeper analyze` (the example
 * machines) beside a bare `node -e ''`, interleaved round by round so all three see the same machine.
 * Each process preloads the same probe (bench/startup-probe.mjs) that reports its peak RSS.
 */
import { spawnSync } from 'node:child_process';
import { performance } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import { median } from './stats.ts';

const BIN = fileURLToPath(new URL('../bin/gatekeeper.mjs', import.meta.url));
const PROBE = fileURLToPath(new URL('./startup-probe.mjs', import.meta.url));
const MARKER = /gatekeeper-bench-maxrss-kb=(\d+)/;

export interface StartupSample {
  ms: number;
  rssMb: number;
}

export interface StartupFigure {
  command: string;
  medianMs: number;
  medianRssMb: number;
  /** Median wall time over the bare node start's. */
  ratio: number;
}

export interface StartupFigures {
  rounds: number;
  node: { medianMs: number; medianRssMb: number };
  commands: StartupFigure[];
}

const CASES: { command: string; args: string[] }[] = [
  { command: 'gatekeeper --help', args: [BIN, '--help'] },
  { command: 'gatekeeper analyze', args: [BIN, 'analyze'] },
];

function sample(args: string[]): StartupSample {
  const started = performance.now();
  const result = spawnSync(process.execPath, ['--import', PROBE, ...args], { encoding: 'utf8' });
  const ms = performance.now() - started;
  const rss = MARKER.exec(result.stderr);
  if (result.status !== 0 || !rss) {
    throw new Error(`${args.join(' ')} exited ${result.status}: ${result.stderr.slice(0, 500)}`);
  }
  return { ms, rssMb: Number(rss[1]) / 1024 };
}

export function benchStartup(options: { rounds?: number } = {}): StartupFigures {
  const rounds = options.rounds ?? 15;
  const bare = ['-e', ''];
  sample(bare);
  for (const { args } of CASES) sample(args); // warm the file cache once
  const node: StartupSample[] = [];
  const samples = CASES.map(() => [] as StartupSample[]);
  for (let round = 0; round < rounds; round += 1) {
    node.push(sample(bare));
    CASES.forEach(({ args }, index) => samples[index]?.push(sample(args)));
  }
  const nodeMs = median(node.map((s) => s.ms));
  return {
    rounds,
    node: { medianMs: nodeMs, medianRssMb: median(node.map((s) => s.rssMb)) },
    commands: CASES.map(({ command }, index) => {
      const own = samples[index] ?? [];
      const medianMs = median(own.map((s) => s.ms));
      return { command, medianMs, medianRssMb: median(own.map((s) => s.rssMb)), ratio: medianMs / nodeMs };
    }),
  };
}

export function printStartupFigures(figures: StartupFigures, log: (line: string) => void): void {
  log(`CLI start-up, median of ${figures.rounds} interleaved rounds (wall time, peak RSS)`);
  log(
    `  node -e ''          ${figures.node.medianMs.toFixed(0).padStart(5)} ms  ${figures.node.medianRssMb.toFixed(0).padStart(4)} MB`,
  );
  for (const figure of figures.commands) {
    log(
      `  ${figure.command.padEnd(19)} ${figure.medianMs.toFixed(0).padStart(5)} ms  ${figure.medianRssMb.toFixed(0).padStart(4)} MB   ratio ${figure.ratio.toFixed(2)}`,
    );
  }
  log("  targets: start ≤ 4 × node -e '', --help ≤ 80 MB");
}
