/**
 * The package as a user installs it: `npm pack` of the repository into a temp dir, and a fresh
 * project outside the repository that installs the tarball with its real dependencies. Shared by
 * the end-to-end tests that run code the way a user's project does.
 */
import { execFile } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';

const run = promisify(execFile);
export const ROOT = fileURLToPath(new URL('../../', import.meta.url));

/** The version of `name` the repository has installed (the consumer gets the same, from npm's cache when it can). */
export function devVersion(name: string): string {
  const manifest = JSON.parse(readFileSync(join(ROOT, 'node_modules', name, 'package.json'), 'utf8')) as {
    version: string;
  };
  return manifest.version;
}

export interface PackedPackage {
  /** Absolute path of the .tgz. */
  tarball: string;
  remove(): void;
}

/**
 * Packs the repository. dist/ is built in place only when stale; packing skips `prepack` so it
 * never rebuilds dist/ under the feet of other test files running the CLI from it at the same time.
 */
export async function packPackage(): Promise<PackedPackage> {
  const packDir = mkdtempSync(join(tmpdir(), 'gatekeeper-pack-'));
  await run(process.execPath, [join(ROOT, 'scripts', 'ensure-build.mjs')], { cwd: ROOT });
  await run('npm', ['pack', '--ignore-scripts', '--pack-destination', packDir, '--loglevel=error'], {
    cwd: ROOT,
    maxBuffer: 64 * 1024 * 1024,
  });
  const tarball = readdirSync(packDir).find((file) => file.endsWith('.tgz'));
  if (!tarball) throw new Error(`npm pack wrote no tarball into ${packDir}`);
  return { tarball: join(packDir, tarball), remove: () => rmSync(packDir, { recursive: true, force: true }) };
}

/** Writes `manifest` as the project's package.json and runs `npm install` there (registry cache first). */
export async function installProject(project: string, manifest: Record<string, unknown>): Promise<void> {
  writeFileSync(join(project, 'package.json'), JSON.stringify(manifest, null, 2));
  await run('npm', ['install', '--no-audit', '--no-fund', '--prefer-offline', '--loglevel=error'], {
    cwd: project,
    maxBuffer: 64 * 1024 * 1024,
  });
}
