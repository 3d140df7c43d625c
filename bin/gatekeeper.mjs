#!/usr/bin/env node
// Runs the compiled CLI (`npm run build` or `prepack` makes dist/). The process ends when main()
// returns, once stdout and stderr have flushed (pipes are asynchronous on some platforms).
import { main } from '../dist/src/cli/main.js';
process.exitCode = await main(process.argv.slice(2));
/** @param {NodeJS.WritableStream} stream */
const flushed = (stream) => new Promise((resolve) => stream.write('', resolve));
await Promise.all([flushed(process.stdout), flushed(process.stderr)]);
process.exit();
