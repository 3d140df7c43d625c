/**
 * Loads a user's machines module: any .ts, .mjs or .js file whose default export (or `machines`
 * export) maps aggregate names to XState machines or `{ machine, ...options }`.
 */
import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import type { MachineRegistryInput } from '../core/aggregate.ts';
import { InvalidConfigError, messageOf } from '../core/errors.ts';

/** The project's own example registry, used when no --machines is given. */
export const EXAMPLE_MACHINES = new URL('../../machines/index.ts', import.meta.url);

export async function loadMachines(
  path: string | undefined,
  cwd = process.cwd(),
): Promise<MachineRegistryInput> {
  const url = path === undefined ? EXAMPLE_MACHINES : pathToFileURL(resolve(cwd, path));
  if (path !== undefined && !existsSync(resolve(cwd, path))) {
    throw new InvalidConfigError(`machines module not found: ${resolve(cwd, path)}`);
  }
  let loaded: Record<string, unknown>;
  try {
    loaded = (await import(url.href)) as Record<string, unknown>;
  } catch (error) {
    throw new InvalidConfigError(
      `could not load machines module ${url.pathname}: ${messageOf(error)}`,
      error,
    );
  }
  const registry = loaded.default ?? loaded.machines;
  if (typeof registry !== 'object' || registry === null) {
    throw new InvalidConfigError(
      `${url.pathname} must default-export an object mapping aggregate names to machines, e.g. \`export default { order: orderMachine }\``,
    );
  }
  return registry as MachineRegistryInput;
}
