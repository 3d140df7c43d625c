// Preloaded into every process the start-up benchmark times (the bare node baseline too): reports
// the process's peak RSS on exit, on stderr behind a marker the benchmark looks for.
import { writeSync } from 'node:fs';

process.on('exit', () => {
  writeSync(2, `\ngatekeeper-bench-maxrss-kb=${process.resourceUsage().maxRSS}\n`);
});
