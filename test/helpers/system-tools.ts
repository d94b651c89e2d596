import { spawnSync } from 'node:child_process';
import { describe, it } from 'vitest';

export function hasTool(name: string): boolean {
  const found = spawnSync('sh', ['-c', `command -v ${name}`], { encoding: 'utf8' });
  return found.status === 0 && found.stdout.trim() !== '';
}

/**
 * A suite that needs system tools (gpg, nginx, htpasswd). Under CI=true a missing tool is a
 * failure, never a silent skip; elsewhere the suite is skipped with a message saying why.
 */
export function describeWithTools(tools: string[], name: string, body: () => void): void {
  describeNeeding(
    tools.filter((tool) => !hasTool(tool)),
    name,
    body,
  );
}

/**
 * Runs the suite when nothing is missing. Under CI=true a missing tool or server is a failing test,
 * never a silent skip (`npm test` installs them: scripts/system-tools.sh); elsewhere the suite is
 * skipped with a message saying what is missing.
 */
export function describeNeeding(missing: string[], name: string, body: () => void): void {
  if (missing.length === 0) {
    describe(name, body);
  } else if (process.env.CI === 'true') {
    describe(name, () => {
      it(`needs ${missing.join(', ')}`, () => {
        throw new Error(`${missing.join(', ')} not installed; npm test installs them (scripts/system-tools.sh)`);
      });
    });
  } else {
    console.warn(
      `skipping "${name}": ${missing.join(', ')} not installed (npm test installs them: scripts/system-tools.sh)`,
    );
    describe.skip(name, body);
  }
}
