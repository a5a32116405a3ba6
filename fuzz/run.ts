/**
 * `npm run fuzz`: runs every property target of test/property/targets.ts for its `fuzzRuns` inputs
 * (over 1,000,000 in all) with a fresh seed, and prints, per target, the inputs run, the failures
 * and the time taken, then the totals. A failure prints its seed and shrunk counterexample (rerun
 * one with FUZZ_SEED=<seed>); the exit code is 1 when any target failed. FUZZ_SCALE=<factor>
 * multiplies every target's inputs (e.g. 0.1 for a quick pass, 10 for a long one).
 */
import fc from 'fast-check';
import { targets } from '../test/property/targets.js';

const scale = Number(process.env.FUZZ_SCALE ?? '1');
const seed = process.env.FUZZ_SEED
  ? Number(process.env.FUZZ_SEED)
  : Date.now() ^ (Math.random() * 0x7fffffff);
console.log(`fuzz: seed ${seed}, scale ${scale}`);

let inputs = 0;
let failures = 0;
const started = performance.now();
for (const t of targets) {
  const numRuns = Math.max(1, Math.round(t.fuzzRuns * scale));
  const t0 = performance.now();
  const details = await fc.check(t.property, { numRuns, seed });
  const secs = (performance.now() - t0) / 1000;
  const ran = details.numRuns;
  inputs += ran;
  const failed = details.failed ? 1 : 0;
  failures += failed;
  console.log(`${t.name}\n    ${ran} inputs, ${failed} failures, ${secs.toFixed(1)} s`);
  if (details.failed) {
    console.log(
      `    FAILED (seed ${details.seed}, path ${details.counterexamplePath}): ${String(details.errorInstance ?? '')}`,
    );
    console.log(`    counterexample: ${fc.stringify(details.counterexample)}`);
  }
}
const total = (performance.now() - started) / 1000;
console.log(`fuzz: ${targets.length} targets, ${inputs} inputs, ${failures} failures, ${total.toFixed(1)} s`);
process.exitCode = failures > 0 ? 1 : 0;
