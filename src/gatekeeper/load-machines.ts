/**
 * Loads a user's machines module: any .ts, .mjs or .js file whose default export (or `machines`
 * export) maps aggregate names to XState machines or `{ machine, ...options }`.
 */
import { resolve } from 'node:path';
import type { MachineRegistryInput } from '../core/aggregate.ts';
import { InvalidConfigError } from '../core/errors.ts';
import { importUserModule } from './import-user-module.ts';

/** The registry exported by the module at `path` (relative to `cwd`). */
export async function loadMachines(path: string, cwd = process.cwd()): Promise<MachineRegistryInput> {
  const file = resolve(cwd, path);
  const loaded = await importUserModule(file, 'machines module');
  const registry = loaded.default ?? loaded.machines;
  if (typeof registry !== 'object' || registry === null) {
    throw new InvalidConfigError(
      `${file} must default-export an object mapping aggregate names to machines, e.g. \`export default { order: orderMachine }\``,
    );
  }
  return registry as MachineRegistryInput;
}
