import { describe } from 'vitest';
import { createGatekeeperWithStore } from '../../../src/gatekeeper/gatekeeper.ts';
import { memoryStore } from '../../../src/store/memory-store.ts';
import { versionScenarios } from '../../support/version-scenarios.ts';

describe('machine versions on the memory store', () => {
  // One store for the whole file, as successive deploys share one Redis; each test its own keys.
  const store = memoryStore();
  let run = 0;
  versionScenarios(
    (machines) => createGatekeeperWithStore({ machines, store, sweepIntervalMs: 0 }),
    () => `m${(run += 1)}-`,
  );
});

describe('machine versions with an inspector attached (entities are live actors)', () => {
  // Live actors restore differently (an actor in error instead of a throw): same answers expected.
  const store = memoryStore();
  let run = 0;
  versionScenarios(
    (machines) =>
      createGatekeeperWithStore({ machines, store, sweepIntervalMs: 0, inspect: () => undefined }),
    () => `a${(run += 1)}-`,
  );
});
