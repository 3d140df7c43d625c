/** A CliIO that collects what a command prints, for calling main() in tests. */
import { PassThrough } from 'node:stream';
import type { CliIO } from '../../src/cli/command.ts';

export interface CapturedIO extends CliIO {
  out(): string;
  err(): string;
  /** Resolves the pending stopSignal() as if the user pressed Ctrl-C. */
  interrupt(): void;
  /** Resolves with the first match of `pattern` in what was printed to stdout or stderr so far or later. */
  waitFor(stream: 'out' | 'err', pattern: RegExp): Promise<RegExpMatchArray>;
}

export function captureIO(): CapturedIO {
  const stdout = new PassThrough();
  const stderr = new PassThrough();
  let out = '';
  let err = '';
  const waiters: { stream: 'out' | 'err'; pattern: RegExp; resolve: (match: RegExpMatchArray) => void }[] =
    [];
  const check = () => {
    for (const waiter of [...waiters]) {
      const match = (waiter.stream === 'out' ? out : err).match(waiter.pattern);
      if (match) {
        waiters.splice(waiters.indexOf(waiter), 1);
        waiter.resolve(match);
      }
    }
  };
  stdout.on('data', (chunk: Buffer) => {
    out += chunk.toString();
    check();
  });
  stderr.on('data', (chunk: Buffer) => {
    err += chunk.toString();
    check();
  });
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
    waitFor: (stream, pattern) =>
      new Promise((resolve) => {
        waiters.push({ stream, pattern, resolve });
        check();
      }),
  };
}

/** Runs the CLI's main() with `argv` and `stdinText` on stdin; returns the exit code and what it printed. */
export async function runCli(
  argv: string[],
  stdinText = '',
): Promise<{ code: number; stdout: string; stderr: string }> {
  const { main } = await import('../../src/cli/main.ts');
  const io = captureIO();
  (io.stdin as PassThrough).end(stdinText);
  const code = await main(argv, io);
  return { code, stdout: io.out(), stderr: io.err() };
}
