/** The registry a command works on: the `--machines` module, else the package's example machines. */
import type { MachineRegistryInput } from '../core/aggregate.ts';
import { loadMachines } from '../gatekeeper/load-machines.ts';
import { stringFlag, type FlagValues } from './command.ts';

export async function machinesFromFlags(flags: FlagValues): Promise<MachineRegistryInput> {
  return machinesModule(stringFlag(flags, 'machines'));
}

/** `path` loaded, or the examples (order, customer, valve), compiled with the package, when it is absent. */
export async function machinesModule(path: string | undefined): Promise<MachineRegistryInput> {
  if (path !== undefined) return loadMachines(path);
  return (await import('../../machines/index.ts')).default;
}
