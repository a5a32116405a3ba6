/**
 * `npm run fuzz`: runs every fuzz target for a large number of inputs and prints, per target, the
 * inputs run, the failures and the time taken. Targets are added as the property suites land.
 */
const targets: { name: string; run: () => { inputs: number; failures: number } }[] = [];

let failed = 0;
for (const t of targets) {
  const t0 = performance.now();
  const r = t.run();
  failed += r.failures;
  console.log(
    `${t.name}: ${r.inputs} inputs, ${r.failures} failures, ${((performance.now() - t0) / 1000).toFixed(1)} s`,
  );
}
if (targets.length === 0) console.log('no fuzz targets yet');
process.exitCode = failed > 0 ? 1 : 0;
