// Counts tests for CI's summary line: cargo's "test result:" lines from the log and vitest's
// JSON report. Prints "N passed, N failed" and exits 1 when anything failed or nothing ran.
import { existsSync, readFileSync } from 'node:fs';

// Usage: summary.mjs LOG VITEST_JSON [VITEST_JSON …] (npm test's report, then the soak's).
const [logPath, ...jsonPaths] = process.argv.slice(2);
let passed = 0;
let failed = 0;

const log = existsSync(logPath) ? readFileSync(logPath, 'utf8') : '';
for (const m of log.matchAll(/test result: \w+\. (\d+) passed; (\d+) failed/g)) {
  passed += Number(m[1]);
  failed += Number(m[2]);
}
const cargoFailedToBuild = /error(\[E\d+\])?: could not compile/.test(log);
if (cargoFailedToBuild) failed += 1;

for (const jsonPath of jsonPaths.length ? jsonPaths : [undefined]) {
  if (jsonPath && existsSync(jsonPath)) {
    const report = JSON.parse(readFileSync(jsonPath, 'utf8'));
    passed += report.numPassedTests ?? 0;
    failed += report.numFailedTests ?? 0;
    // A test file that failed to load counts as a failure even though it ran no test.
    failed += (report.testResults ?? []).filter((f) => f.status === 'failed' && (f.assertionResults ?? []).length === 0).length;
  } else {
    console.log(`ci: vitest did not report${jsonPath ? ` to ${jsonPath}` : ''} (an earlier step failed)`);
    failed += 1;
  }
}

console.log(`${passed} passed, ${failed} failed`);
process.exit(failed > 0 || passed === 0 ? 1 : 0);
