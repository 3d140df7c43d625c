/**
 * Runs the CLI's main() in this process with the real stdin/stdout, then prints the process's
 * peak resident memory as the last stderr line (`MAX_RSS_KB=<n>`), for tests that bound it.
 * Run with `node --import tsx cli-with-rss.ts <command> [args…]`.
 */
import { main } from '../../../../src/cli/main.ts';

const code = await main(process.argv.slice(2));
process.stderr.write(`\nMAX_RSS_KB=${process.resourceUsage().maxRSS}\n`, () => process.exit(code));
