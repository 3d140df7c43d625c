/** The example machines with a stall limit of 1 ms, for the CLI's `stalled` test. */
import machines from '../../../../machines/index.ts';

export default {
  ...machines,
  order: { ...machines.order, stallAfterMs: 1 },
};
