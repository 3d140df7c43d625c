/**
 * The package as a user gets it: `npm pack`, the tarball installed with its real dependencies into
 * a fresh project outside the repository beside the consumer's own xstate and zod, then used there
 * from plain Node ESM, from CommonJS, from strict TypeScript (nodenext) and through `npx gatekeeper`.
 */
import { execFile } from 'node:child_process';
import { cpSync, existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  devVersion,
  installProject,
  packPackage,
  ROOT,
  type PackedPackage,
} from '../support/packed-package.ts';

const run = promisify(execFile);
const FIXTURE = fileURLToPath(new URL('../fixtures/consumer/', import.meta.url));

let project: string;
let packed: PackedPackage | undefined;

/** Runs a command in the consumer project; resolves with its output whatever the exit code. */
async function inProject(
  command: string,
  args: string[],
  input?: string,
): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const child = execFile(
      command,
      args,
      {
        cwd: project,
        env: { ...process.env, NODE_OPTIONS: '' },
        maxBuffer: 64 * 1024 * 1024,
        timeout: 240_000,
      },
      (error, stdout, stderr) => {
        const code = error ? (typeof error.code === 'number' ? error.code : 1) : 0;
        resolve({ code, stdout, stderr });
      },
    );
    if (input !== undefined) child.stdin?.end(input);
  });
}

beforeAll(async () => {
  packed = await packPackage();
  project = mkdtempSync(join(tmpdir(), 'gatekeeper-consumer-'));
  cpSync(FIXTURE, project, { recursive: true });
  await installProject(project, {
    name: 'consumer',
    private: true,
    type: 'module',
    dependencies: {
      gatekeeper: `file:${packed.tarball}`,
      xstate: devVersion('xstate'),
      zod: devVersion('zod'),
    },
    devDependencies: { typescript: devVersion('typescript'), '@types/node': devVersion('@types/node') },
  });
}, 600_000);

afterAll(() => {
  if (project) rmSync(project, { recursive: true, force: true });
  packed?.remove();
});

describe('the packed package installed into a fresh project', () => {
  it('holds only what runs: compiled JavaScript with declarations, the Lua scripts and web assets, no sources or tests', () => {
    const installed = join(project, 'node_modules', 'gatekeeper');
    const files = listFiles(installed);
    expect(files).toContain('dist/src/index.js');
    expect(files).toContain('dist/src/index.d.ts');
    expect(files).toContain('dist/src/index.d.ts.map');
    expect(files).toContain('dist/src/index.js.map');
    expect(files).toContain('dist/src/store/redis/lua/commitBatch.lua');
    expect(files).toContain('dist/src/observe/ui/assets/index.html');
    expect(files).toContain('bin/gatekeeper.mjs');
    expect(files).toContain('LICENSE');
    expect(files).toContain('patches/kafkajs+2.2.4.patch');
    expect(files.filter((file) => file.endsWith('.ts') && !file.endsWith('.d.ts'))).toEqual([]);
    expect(files.filter((file) => /^(test|bench|tools|scripts|src)\//.test(file))).toEqual([]);
  });

  it('ships the kafkajs patch so the consumer can apply it to its own kafkajs with patch-package', async () => {
    const patchPackage = join(ROOT, 'node_modules', 'patch-package', 'index.js');
    const applied = await inProject(process.execPath, [
      patchPackage,
      '--patch-dir',
      'node_modules/gatekeeper/patches',
    ]);
    expect(applied.stderr).not.toMatch(/error/i);
    expect(applied.code).toBe(0);
    expect(applied.stdout).toContain('kafkajs@2.2.4 ✔');
    const filter = readFileSync(
      join(project, 'node_modules', 'kafkajs', 'src', 'consumer', 'filterAbortedMessages.js'),
      'utf8',
    );
    expect(filter).toContain('sorted by first offset');
  });

  it('shares the consumer’s xstate: one copy in the project, none inside the package', () => {
    expect(existsSync(join(project, 'node_modules', 'gatekeeper', 'node_modules', 'xstate'))).toBe(false);
    const copies = listFiles(join(project, 'node_modules')).filter((file) =>
      /(^|\/)node_modules\/xstate\/package\.json$|^xstate\/package\.json$/.test(file),
    );
    expect(copies).toEqual(['xstate/package.json']);
  });

  it('imports every entry point from plain Node ESM and gates a shuffled stream on the embedded store and on Redis', async () => {
    const result = await inProject('node', ['gate.mjs']);
    expect(result.stderr).toBe('');
    expect(result.code).toBe(0);
    const summary = JSON.parse(result.stdout) as Record<string, Record<string, number>>;
    expect(summary.memory?.['discarded/stale-seq']).toBeGreaterThan(0);
    expect(summary.redis).toEqual(summary.memory);
  });

  it('loads from CommonJS through require()', async () => {
    const result = await inProject('node', ['require.cjs']);
    expect(result.code).toBe(0);
    expect(result.stdout.trim()).toBe('required');
  });

  it('type-checks a strict nodenext TypeScript project using the public API with the consumer’s own xstate and zod', async () => {
    const result = await inProject('npx', ['--no-install', 'tsc', '-p', '.']);
    expect(result.stdout + result.stderr).toBe('');
    expect(result.code).toBe(0);
    // tsc over the project's and its dependencies' declarations took over 30 s at a load of 14 on 2 cores.
  }, 120_000);

  it('runs `npx gatekeeper demo`, `check` with a .mjs machines module and `analyze` from the installed package', async () => {
    const demo = await inProject('npx', ['--no-install', 'gatekeeper', 'demo', '--entities', '500']);
    expect(demo.code).toBe(0);
    expect(demo.stdout).toMatch(/Check: ✓ all 500 entities/);

    const check = await inProject('npx', [
      '--no-install',
      'gatekeeper',
      'check',
      '--machines',
      './machines.mjs',
      'events.ndjson',
      '--final',
    ]);
    expect(check.code).toBe(0);
    const lines = check.stdout
      .trim()
      .split('\n')
      .map((line) => JSON.parse(line) as Record<string, unknown>);
    expect(lines.map((line) => line.reason ?? 'final')).toEqual([
      'seq-gap',
      'legal',
      'drained',
      'stale-seq',
      'invalid-envelope',
      'final',
    ]);

    const analyze = await inProject('npx', ['--no-install', 'gatekeeper', 'analyze']);
    expect(analyze.code).toBe(0);
    expect(analyze.stdout).toMatch(/^order \(machine #order\)/m);
    expect(analyze.stdout).toMatch(/^valve \(machine #valve\)/m);
  });

  it('refuses a .ts machines module with a clear error naming the fix until tsx is installed, then loads it', async () => {
    const args = ['--no-install', 'gatekeeper', 'check', '--machines', './machines.ts', 'events.ndjson'];
    const before = await inProject('npx', args);
    expect(before.code).toBe(1);
    expect(before.stderr).toMatch(/machines\.ts is TypeScript.*npm install --save-dev tsx/);
    expect(before.stderr).not.toMatch(/\n\s+at /);

    await run(
      'npm',
      [
        'install',
        '--no-audit',
        '--no-fund',
        '--prefer-offline',
        '--loglevel=error',
        `tsx@${devVersion('tsx')}`,
      ],
      {
        cwd: project,
        maxBuffer: 64 * 1024 * 1024,
      },
    );
    const after = await inProject('npx', args);
    expect(after.stderr).toBe('');
    expect(after.code).toBe(0);
    expect(after.stdout).toMatch(/"reason":"drained"/);

    const analyze = await inProject('npx', [
      '--no-install',
      'gatekeeper',
      'analyze',
      '--machines',
      './machines.ts',
    ]);
    expect(analyze.code).toBe(0);
    expect(analyze.stdout).toMatch(/^loan \(machine #loan\)/m);
  });
});

function listFiles(dir: string, prefix = ''): string[] {
  const out: string[] = [];
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = prefix === '' ? entry.name : `${prefix}/${entry.name}`;
    if (entry.isDirectory()) out.push(...listFiles(join(dir, entry.name), path));
    else out.push(path);
  }
  return out;
}
