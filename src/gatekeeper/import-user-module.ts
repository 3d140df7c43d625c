/**
 * Imports a module the user wrote (a machines registry, a `run` configuration): JavaScript as it
 * is, TypeScript through the user's own tsx. tsx is not a dependency of the package, so it is
 * looked up from the module's folder and then from the working directory, and loaded only when a
 * `.ts` module is actually asked for.
 */
import { existsSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { InvalidConfigError, messageOf } from '../core/errors.ts';

const TYPESCRIPT = /\.(ts|mts|cts)$/;

interface TsxApi {
  tsImport(specifier: string, parentURL: string): Promise<unknown>;
}

/** Imports `file` (absolute), through tsx when it is TypeScript. `what` names it in errors. */
export async function importUserModule(file: string, what: string): Promise<Record<string, unknown>> {
  if (!existsSync(file)) throw new InvalidConfigError(`${what} not found: ${file}`);
  const url = pathToFileURL(file).href;
  try {
    try {
      return (await import(url)) as Record<string, unknown>;
    } catch (error) {
      // A process started through tsx or vitest already imports .ts; only a plain Node refuses it.
      if (!TYPESCRIPT.test(file) || !isUnknownExtension(error)) throw error;
    }
    // tsImport loads the module under a namespace of its own, past Node's cached refusal of the URL.
    const tsx = await loadTsx(file);
    return (await tsx.tsImport(url, import.meta.url)) as Record<string, unknown>;
  } catch (error) {
    if (error instanceof InvalidConfigError) throw error;
    throw new InvalidConfigError(`could not load ${what} ${file}: ${messageOf(error)}`, error);
  }
}

function isUnknownExtension(error: unknown): boolean {
  return (error as { code?: unknown } | null)?.code === 'ERR_UNKNOWN_FILE_EXTENSION';
}

async function loadTsx(file: string): Promise<TsxApi> {
  const api = findTsxApi([dirname(file), process.cwd()]);
  if (api === undefined) {
    throw new InvalidConfigError(
      `${file} is TypeScript, and loading TypeScript needs tsx in your project: run \`npm install --save-dev tsx\` (or compile the module to .mjs/.js)`,
    );
  }
  return (await import(pathToFileURL(api).href)) as TsxApi;
}

/** The file of tsx's ESM API (`tsx/esm/api`, import condition) as installed beside `from`. */
function findTsxApi(fromDirs: string[]): string | undefined {
  for (const dir of fromDirs) {
    let manifest: string;
    try {
      manifest = createRequire(join(resolve(dir), 'noop.js')).resolve('tsx/package.json');
    } catch {
      continue;
    }
    const pkg = JSON.parse(readFileSync(manifest, 'utf8')) as {
      exports?: Record<string, { import?: { default?: string } | string }>;
    };
    const entry = pkg.exports?.['./esm/api']?.import;
    const target = typeof entry === 'string' ? entry : entry?.default;
    if (target !== undefined) return join(dirname(manifest), target);
  }
  return undefined;
}
