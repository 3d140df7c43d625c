import { describe, expect, it } from 'vitest';
import machines from '../../../../machines/index.ts';
import { createGatekeeper } from '../../../../src/index.ts';
import { memoryStore } from '../../../../src/store/memory-store.ts';
import { InvalidConfigError } from '../../../../src/core/errors.ts';
import { poisonAndFlakyScenario, poisonedHandler } from '../../../support/effect-scenarios.ts';

describe('effects on the memory store', () => {
  it('a poison entity holds in order while every other entity completes; retry and skip release the held ones in order', async () => {
    const poisoned = poisonedHandler();
    await poisonAndFlakyScenario((effects) => createGatekeeper({ machines, effects }), poisoned);
  });

  it('refuses effects on a store that keeps no effects queue', () => {
    expect(() =>
      createGatekeeper({ machines, store: memoryStore(), effects: { onTransition: () => undefined } }),
    ).toThrow(InvalidConfigError);
  });
});
