#!/usr/bin/env node
// Runs the compiled CLI; `npm run build` (or `prepack`) makes dist/. The process ends when main() does.
import { main } from '../dist/src/cli/main.js';
process.exit(await main(process.argv.slice(2)));
