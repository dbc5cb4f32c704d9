// Revocation-to-refusal delays under faults: runs the fault test (test/revocation-faults.e2e-spec.ts) and prints
// its report. Two auth-server instances and two resource servers on one PostgreSQL; for each fault (none, an
// instance killed, a LISTEN backend paused, PostgreSQL restarted, a resource server restarted), the delay from a
// revocation's answer to its refusal at both resource servers, p50 / p99 / max per format. The test asserts only
// that none is lost; the delays are measured here, not asserted.
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = resolve(fileURLToPath(new URL('..', import.meta.url)));

export async function faultsBenchmark() {
  const dir = mkdtempSync(join(tmpdir(), 'tessera-faults-'));
  const reportFile = join(dir, 'report.md');
  try {
    const jest = resolve(ROOT, 'node_modules/jest/bin/jest.js');
    const child = spawn(process.execPath, [jest, 'test/revocation-faults.e2e-spec.ts'], {
      cwd: ROOT,
      env: { ...process.env, NODE_OPTIONS: '--experimental-vm-modules', TESSERA_FAULTS_REPORT: reportFile },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let output = '';
    child.stdout.on('data', (d) => (output += d));
    child.stderr.on('data', (d) => (output += d));
    const code = await new Promise((res) => child.on('close', res));
    let report = '';
    try {
      report = readFileSync(reportFile, 'utf8');
    } catch {
      // no report: the suite failed before any fault
    }
    if (report) console.log(report);
    if (code !== 0) {
      console.error(`the fault test failed (exit ${code}):\n${output.slice(-6000)}`);
      return false;
    }
    return true;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
