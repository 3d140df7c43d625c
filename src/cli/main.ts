/**
 * The CLI's entry: picks the command, parses its flags, runs it and maps errors to exit codes.
 * The only place that decides what the process prints on failure.
 */
import { parseArgs } from 'node:util';
import { GatekeeperError, messageOf } from '../core/errors.ts';
import { EXIT, write, type CliIO, type Command, type FlagValues } from './command.ts';
import { commands } from './commands/index.ts';
import { UsageError } from './usage-error.ts';

export async function main(argv: string[], io: CliIO = processIO()): Promise<number> {
  const [name, ...rest] = argv;
  if (name === undefined || name === 'help' || name === '--help' || name === '-h') {
    write(io.stdout, overview());
    return name === undefined ? EXIT.usage : EXIT.ok;
  }
  const entry = commands.find((candidate) => candidate.name === name);
  if (!entry) {
    write(io.stderr, `gatekeeper: unknown command "${name}"\n\n${overview()}`);
    return EXIT.usage;
  }
  const command = await entry.load();
  try {
    if (rest.includes('--help') || rest.includes('-h')) {
      write(io.stdout, command.usage);
      return EXIT.ok;
    }
    const { values, positionals } = parseFlags(command, rest);
    return await command.run(values as FlagValues, positionals, io);
  } catch (error) {
    return report(error, command, io);
  }
}

function parseFlags(command: Command, args: string[]) {
  try {
    return parseArgs({
      args,
      options: command.options,
      allowPositionals: command.positionals ?? false,
      strict: true,
    });
  } catch (error) {
    throw new UsageError(messageOf(error));
  }
}

function report(error: unknown, command: Command, io: CliIO): number {
  if (error instanceof UsageError) {
    write(io.stderr, `gatekeeper ${command.name}: ${error.message}\n\n${command.usage}`);
    return EXIT.usage;
  }
  if (error instanceof GatekeeperError) {
    write(io.stderr, `gatekeeper ${command.name}: ${error.message}`);
    return EXIT.failure;
  }
  write(
    io.stderr,
    `gatekeeper ${command.name}: unexpected error: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}`,
  );
  return EXIT.failure;
}

function overview(): string {
  const width = Math.max(...commands.map((command) => command.name.length));
  const lines = commands.map((command) => `  ${command.name.padEnd(width)}  ${command.summary}`);
  return `Usage: gatekeeper <command> [options]\n\nCommands:\n${lines.join('\n')}\n\nRun gatekeeper <command> --help for a command's options.`;
}

function processIO(): CliIO {
  let stop: Promise<string> | undefined;
  const stopSignal = () =>
    (stop ??= new Promise<string>((resolve) => {
      for (const signal of ['SIGINT', 'SIGTERM'] as const) process.once(signal, () => resolve(signal));
    }));
  return {
    stdout: process.stdout,
    stderr: process.stderr,
    stdin: process.stdin,
    interactive: process.stderr.isTTY === true,
    env: process.env,
    stopSignal,
  };
}
