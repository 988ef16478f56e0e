// A static audit of the Electron side (main/ and preload/, scanned together so the global checks
// see the navigation and permission handlers) with @doyensec/electronegativity: no HIGH finding.
// The window's rules themselves (sandbox, isolation, CSP, navigation, permissions) are verified
// by behaviour in test/unit/electron-main.test.ts.
import { describe, expect, it } from 'vitest';
import { spawnSync } from 'node:child_process';
import { cpSync, existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { repoRoot, scratchDir } from '../helpers/cli.js';

const bin = join(repoRoot, 'node_modules', '.bin', 'electronegativity');

/** The CSV electronegativity writes: one finding per line after the header. */
function findings(csv: string): { issue: string; severity: string; confidence: string; file: string; location: string }[] {
  return csv
    .trim()
    .split('\n')
    .slice(1)
    .filter(Boolean)
    .map((line) => {
      const cells = line.match(/("([^"]*)"|[^,]*)(,|$)/g)!.map((c) => c.replace(/,$/, '').replace(/^"|"$/g, ''));
      return { issue: cells[0]!, severity: cells[1]!, confidence: cells[2]!, file: cells[3]!, location: cells[4]! };
    });
}

describe('electronegativity', () => {
  it('finds nothing of high severity in main/ and preload/', ({ skip }) => {
    if (!existsSync(bin)) {
      // npm ci installs it (a devDependency); a tree installed before it was added lacks it.
      if (process.env.CI) throw new Error('@doyensec/electronegativity is not installed');
      skip();
    }
    const scratch = scratchDir('audit');
    try {
      const app = join(scratch.dir, 'app');
      cpSync(join(repoRoot, 'main'), join(app, 'main'), { recursive: true });
      cpSync(join(repoRoot, 'preload'), join(app, 'preload'), { recursive: true });
      const electron = JSON.parse(readFileSync(join(repoRoot, 'package.json'), 'utf8')).devDependencies.electron.replace(/^[^\d]*/, '');
      const out = join(scratch.dir, 'findings.csv');
      const r = spawnSync(bin, ['-i', app, '-e', electron, '-r', '-v', 'false', '-o', out], { encoding: 'utf8', timeout: 150_000, killSignal: 'SIGKILL' });
      expect(r.signal, r.stderr).toBeNull();
      expect(existsSync(out), `no report: ${r.stdout.slice(-2000)} ${r.stderr}`).toBe(true);
      const all = findings(readFileSync(out, 'utf8'));
      console.log(`electronegativity ${electron}: ${all.length} finding(s): ${all.map((f) => `${f.issue} ${f.severity} ${f.file}:${f.location}`).join('; ') || 'none'}`);
      expect(all.filter((f) => f.severity === 'HIGH')).toEqual([]);
    } finally {
      scratch.cleanup();
    }
  }, 200_000);
});
