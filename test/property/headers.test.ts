/** Property suite (fast-check, a bounded number of inputs per CI run; `npm run fuzz` runs more). */
import fc from 'fast-check';
import { describe, it } from 'vitest';
import { targets } from './targets.js';

const prefixes = ['Mcp-Param'];

describe('properties', () => {
  for (const t of targets.filter((x) => prefixes.some((p) => x.name.startsWith(p)))) {
    it(t.name, async () => {
      await fc.assert(t.property, { numRuns: t.ciRuns });
    });
  }
});
