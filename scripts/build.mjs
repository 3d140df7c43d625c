// The package build: a clean dist/ from tsconfig.build.json (ESM + .d.ts + maps), then the files the
// compiled code reads at run time beside it (the Redis Lua scripts and the web view's assets).
// Plain tsc rather than a bundler: the package's entry points are its modules, so one emitted file
// per source keeps stack traces, source maps and `import()` of heavy dependencies exactly as written.
import { execFileSync } from 'node:child_process';
import { cpSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const RUNTIME_FILES = ['src/store/redis/lua', 'src/observe/ui/assets'];

rmSync(join(root, 'dist'), { recursive: true, force: true });
const tsc = createRequire(import.meta.url).resolve('typescript/bin/tsc');
execFileSync(process.execPath, [tsc, '-p', join(root, 'tsconfig.build.json')], {
  cwd: root,
  stdio: 'inherit',
});
for (const dir of RUNTIME_FILES) cpSync(join(root, dir), join(root, 'dist', dir), { recursive: true });
