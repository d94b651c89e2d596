import { spawnSync } from 'node:child_process';
import { resolve } from 'node:path';
import { describe, expect, it } from 'vitest';

const BIN = resolve(__dirname, '..', '..', 'bin', 'secrets');

describe('output into a pipe that closes early', () => {
  it('`secrets check --help | true` ends quietly: no EPIPE stack trace', () => {
    // `true` exits without reading, so the help meets a pipe with no reader (as `| head` does past its lines).
    const result = spawnSync('bash', ['-o', 'pipefail', '-c', `"${process.execPath}" "${BIN}" check --help | true`], {
      encoding: 'utf8',
    });
    expect(result.status).toBe(0);
    expect(result.stderr).not.toMatch(/EPIPE|Error|at /);
  });
});
