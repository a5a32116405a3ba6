/**
 * The official conformance suite (@modelcontextprotocol/conformance 0.2.0-alpha.12, run with Node 22)
 * against `anywire serve examples/everything/server.ts --http`, and the everything client.
 */
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { ROOT } from './helpers.js';

const run = promisify(execFile);
/**
 * Each case runs the whole suite in child processes (Node 22 plus our servers): on an idle 2-core
 * machine it takes 20-60 s, on a busy one several times that. Bounded, but generous.
 */
const SUITE_TIMEOUT_MS = 600_000;
/** The client side runs 64 scenario runs (one process pair each): 5-10 minutes on a busy machine. */
const CLIENT_TIMEOUT_MS = 1_200_000;

interface RunResult {
  label: string;
  status: number;
  passed: number;
  failed: number;
  failing: string[];
}

/** Runs conformance/run.mjs with `args` and returns its per-run results. */
async function runConformance(args: string[], timeoutMs = SUITE_TIMEOUT_MS): Promise<RunResult[]> {
  let stdout: string;
  try {
    ({ stdout } = await run(process.execPath, [`${ROOT}conformance/run.mjs`, ...args], {
      cwd: ROOT,
      timeout: timeoutMs,
      maxBuffer: 1 << 24,
    }));
  } catch (e) {
    stdout = (e as { stdout: string }).stdout;
  }
  return (JSON.parse(stdout.slice(stdout.indexOf('{'))) as { results: RunResult[] }).results;
}

describe('official conformance suite', () => {
  it(
    'server: 2025-11-25 30/30 scored, 2026-07-28 37/37 scored, --suite all 65 of 65 (the tasks extension included)',
    async () => {
      const results = await runConformance(['--server-only']);
      const byLabel = Object.fromEntries(results.map((r) => [r.label, r]));
      // 30 scored + 3 unscored scenarios, all passing.
      expect(byLabel['server --requirements 2025-11-25']).toMatchObject({ status: 0, passed: 33, failed: 0 });
      // 37 scored + 13 unscored (the tasks-* extension scenarios among them), all passing.
      expect(byLabel['server --requirements 2026-07-28']).toMatchObject({ status: 0, passed: 50, failed: 0 });
      // Every scenario of the suite, the nine tasks-* ones included.
      expect(byLabel['server --suite all']).toMatchObject({ status: 0, passed: 65, failed: 0 });
    },
    SUITE_TIMEOUT_MS,
  );

  it(
    'client: all 48 scenarios of --suite all pass, the scored ones at both revisions',
    async () => {
      expect(existsSync(`${ROOT}examples/everything/client.ts`)).toBe(true);
      const results = await runConformance(['--client-only'], CLIENT_TIMEOUT_MS);
      // 2025-11-25: 18 scored + json-schema-2020-12-preservation; 2026-07-28: 32 scored +
      // json-schema-2020-12-preservation; then the 6 auth extensions, the 2 2025-03-26 auth
      // back-compat scenarios and the 4 client skills (SEP-2640) ones at their own versions.
      expect(results.filter((r) => r.label.startsWith('client 2025-11-25 ')).length).toBe(19);
      expect(results.filter((r) => r.label.startsWith('client 2026-07-28 ')).length).toBe(33);
      expect(results.length).toBe(64);
      const distinct = new Set(results.map((r) => r.label.split(' ')[2]));
      expect(distinct.size).toBe(48);
      expect(results.filter((r) => r.status !== 0 || r.failed > 0).map((r) => r.label)).toEqual([]);
    },
    CLIENT_TIMEOUT_MS,
  );

  it(
    'server suite through a bridge in front of every other binding: WebSocket, TCP, TLS, gRPC, MQTT',
    async () => {
      const results = await runConformance(['--via', 'ws,tcp,tls,grpc,mqtt']);
      expect(results).toHaveLength(10);
      for (const scheme of ['ws', 'tcp', 'tls', 'grpc', 'mqtt']) {
        const legacy = results.find((r) => r.label === `via ${scheme} server --requirements 2025-11-25`);
        const modern = results.find((r) => r.label === `via ${scheme} server --requirements 2026-07-28`);
        expect(legacy, scheme).toMatchObject({ status: 0, passed: 33 });
        expect(modern, scheme).toMatchObject({ status: 0, passed: 50, failed: 0 });
      }
    },
    SUITE_TIMEOUT_MS,
  );
});
