/** Every CLI command, in the order `gatekeeper --help` lists them. */
import type { Command } from '../command.ts';
import { analyzeCommand } from './analyze.ts';
import { checkCommand } from './check.ts';
import { demoCommand } from './demo.ts';
import { exportCommand } from './export.ts';
import { historyCommand } from './history.ts';
import { inspectCommand } from './inspect.ts';
import { migrateCommand, resetCommand } from './lifecycle-action.ts';
import { retryCommand, skipCommand } from './operator-action.ts';
import { runCommand } from './run.ts';
import { stalledCommand } from './stalled.ts';
import { uiCommand } from './ui.ts';
import { versionsCommand } from './versions.ts';

export const commands: readonly Command[] = [
  demoCommand,
  checkCommand,
  analyzeCommand,
  exportCommand,
  historyCommand,
  inspectCommand,
  stalledCommand,
  retryCommand,
  skipCommand,
  migrateCommand,
  resetCommand,
  versionsCommand,
  runCommand,
  uiCommand,
];
