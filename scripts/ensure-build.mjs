// Builds dist/ when it is missing or older than a source, so `npm run demo`, `npm test` and the CLI
// run the code as it is now; the launcher itself runs only compiled JavaScript.
import { execFileSync } from 'node:child_process';
import { existsSync, readdirSync, statSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const built = join(root, 'dist', 'src', 'cli', 'main.js');
const SOURCES = ['src', 'machines', 'tsconfig.json', 'tsconfig.build.json', 'scripts/build.mjs'];

/** @param {string} path @returns {number} */
function newest(path) {
  const stat = statSync(path);
  if (!stat.isDirectory()) return stat.mtimeMs;
  return Math.max(stat.mtimeMs, ...readdirSync(path).map((name) => newest(join(path, name))));
}

const stale =
  !existsSync(built) ||
  statSync(built).mtimeMs < Math.max(...SOURCES.map((source) => newest(join(root, source))));
if (stale) {
  console.error('gatekeeper: building dist/ (npm run build)…');
  execFileSync(process.execPath, [join(root, 'scripts', 'build.mjs')], { cwd: root, stdio: 'inherit' });
}
