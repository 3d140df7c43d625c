/**
 * Reads a `gatekeeper run` configuration file: a .json file, or a .ts/.mjs/.js module whose
 * default export (or `config` export) is the configuration object. A relative `machines` path in
 * the file is resolved against the file's own folder, so the file works from any working directory.
 */
import { existsSync, readFileSync } from 'node:fs';
import { dirname, isAbsolute, resolve } from 'node:path';
import { InvalidConfigError, messageOf } from '../core/errors.ts';
import { importUserModule } from '../gatekeeper/import-user-module.ts';

/** Loads the raw (not yet validated) configuration object from `path`. */
export async function loadRunConfigFile(path: string, cwd = process.cwd()): Promise<Record<string, unknown>> {
  const file = resolve(cwd, path);
  if (!existsSync(file)) throw new InvalidConfigError(`config file not found: ${file}`);
  let loaded: unknown;
  if (file.endsWith('.json')) {
    try {
      loaded = JSON.parse(readFileSync(file, 'utf8'));
    } catch (error) {
      throw new InvalidConfigError(`config file ${file} is not valid JSON: ${messageOf(error)}`, error);
    }
  } else if (/\.(ts|mts|mjs|js)$/.test(file)) {
    const module = await importUserModule(file, 'config module');
    loaded = module.default ?? module.config;
  } else {
    throw new InvalidConfigError(`config file ${file} must be .json, .ts, .mjs or .js`);
  }
  if (typeof loaded !== 'object' || loaded === null || Array.isArray(loaded)) {
    throw new InvalidConfigError(`config file ${file} must hold (or default-export) an object`);
  }
  const config = { ...(loaded as Record<string, unknown>) };
  if (typeof config.machines === 'string' && !isAbsolute(config.machines))
    config.machines = resolve(dirname(file), config.machines);
  return config;
}
