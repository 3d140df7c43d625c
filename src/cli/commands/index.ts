/** Every CLI command, in the order `gatekeeper --help` lists them. */
import type { Command } from '../command.ts';
import { analyzeCommand } from './analyze.ts';
import { checkCommand } from './check.ts';
import { demoCommand } from './demo.ts';
import { exportCommand } from './export.ts';
import { historyCommand } from './history.ts';
import { runCommand } from './run.ts';
import { uiCommand } from './ui.ts';

export const commands: readonly Command[] = [
  demoCommand,
  checkCommand,
  analyzeCommand,
  exportCommand,
  historyCommand,
  runCommand,
  uiCommand,
];
