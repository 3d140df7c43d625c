/** A CliIO that collects what a command prints, for calling main() in tests. */
import { PassThrough } from 'node:stream';
import type { CliIO } from '../../../../src/cli/command.ts';

export interface CapturedIO extends CliIO {
  out(): string;
  err(): string;
  /** Resolves the pending stopSignal() as if the user pressed Ctrl-C. */
  interrupt(): void;
}

export function captureIO(): CapturedIO {
  const stdout = new PassThrough();
  const stderr = new PassThrough();
  let out = '';
  let err = '';
  stdout.on('data', (chunk: Buffer) => (out += chunk.toString()));
  stderr.on('data', (chunk: Buffer) => (err += chunk.toString()));
  let resolveStop: (signal: string) => void = () => undefined;
  const stop = new Promise<string>((resolve) => (resolveStop = resolve));
  return {
    stdout,
    stderr,
    stdin: new PassThrough(),
    interactive: false,
    env: {},
    stopSignal: () => stop,
    out: () => out,
    err: () => err,
    interrupt: () => resolveStop('SIGINT'),
  };
}
