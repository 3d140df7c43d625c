/** The core decision behaviour, run against the memory store and a real Redis with the same scenarios. */
import { describe } from 'vitest';
import { defineDecisionScenarios } from './support/decision-scenarios.ts';
import { memoryHarness, standaloneHarness } from './support/harness.ts';

describe.each([memoryHarness(), standaloneHarness()])('decisions on the $name store', (harness) => {
  defineDecisionScenarios(harness);
});
