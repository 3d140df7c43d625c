#!/usr/bin/env node
// Registers tsx so the TypeScript sources (and users' .ts machine modules) load directly.
import 'tsx/esm';
const { main } = await import('../src/cli/main.ts');
process.exitCode = await main(process.argv.slice(2));
