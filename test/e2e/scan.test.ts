import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { fake, join as parts } from '../../src/core/scan/fake-values.js';
import { runSecrets } from '../helpers/cli.js';
import { tempRepo } from '../helpers/scan-repo.js';

const repo = tempRepo;

describe('secrets scan through bin/secrets', () => {
  it('exits 0 on a clean tree, 1 with leaks, redacted unless --reveal', async () => {
    const r = repo();
    r.commit({ 'app.py': 'print("hello")\n' });
    expect(await runSecrets(['scan'], { cwd: r.dir })).toMatchObject({ code: 0, stderr: '' });
    const token = parts('ghp_', fake.alnum(36));
    r.write({ 'deploy.sh': `export GH_TOKEN=${token}\n` });
    const leaky = await runSecrets(['scan'], { cwd: r.dir });
    expect(leaky.code).toBe(1);
    expect(leaky.stdout).toContain('deploy.sh:1:17  github-token  high  ghp_…(40)');
    expect(leaky.stdout + leaky.stderr).not.toContain(token);
    const json = await runSecrets(['scan', '--json'], { cwd: r.dir });
    expect(JSON.parse(json.stdout).findings[0]).toMatchObject({
      ruleId: 'github-token',
      file: 'deploy.sh',
      line: 1,
      column: 17,
      match: 'ghp_…(40)',
    });
    expect((await runSecrets(['scan', '--reveal'], { cwd: r.dir })).stdout).toContain(token);
    const sarif = JSON.parse((await runSecrets(['scan', '--format', 'sarif'], { cwd: r.dir })).stdout);
    expect(sarif.version).toBe('2.1.0');
    expect(sarif.runs[0].results).toHaveLength(1);
  });

  it('exits 3 on contradictory flags, with the reason on stderr', async () => {
    const r = repo();
    r.commit({ 'a.txt': 'a\n' });
    const result = await runSecrets(['scan', '--staged', '--history'], { cwd: r.dir });
    expect(result.code).toBe(3);
    expect(result.stderr).toMatch(/--staged and --history/);
  });

  it('installs a hook that blocks a commit adding a secret', async () => {
    const r = repo();
    r.commit({ 'a.txt': 'a\n' });
    const installed = await runSecrets(['scan', '--install-hook'], { cwd: r.dir });
    expect(installed.code).toBe(0);
    const hook = readFileSync(`${r.dir}/.git/hooks/pre-commit`, 'utf8');
    expect(hook).toContain('secrets scan --staged');
  });

  it('skips the paths scan.ignore_paths names, read as a .gitignore (vendor/, *.[pP]em, !negation)', async () => {
    const r = repo();
    const token = parts('ghp_', fake.alnum(36));
    r.write({
      'secrets.yaml':
        'version: 1\ndeployment: demo\nsecrets: {}\nscan:\n  ignore_paths: ["vendor/", "*.[pP]em", "!certs/kept.pem"]\n',
      'src/vendor/lib/deploy.sh': `export GH_TOKEN=${token}\n`,
      'certs/server.Pem': `export GH_TOKEN=${token}\n`,
      'certs/kept.pem': `export GH_TOKEN=${token}\n`,
    });
    const result = await runSecrets(['scan', '--json', '--policy', 'secrets.yaml'], { cwd: r.dir });
    expect(JSON.parse(result.stdout).findings.map((finding: { file: string }) => finding.file)).toEqual([
      'certs/kept.pem',
    ]);
    expect(result.code).toBe(1);
  });

  it('shows help with an example', async () => {
    const help = await runSecrets(['scan', '--help']);
    expect(help.stdout).toMatch(/Examples:/);
    expect(help.stdout).toMatch(/--history/);
  });
});

describe('the repository scans clean', () => {
  it('secrets scan finds nothing in this working tree (fake secrets are built at run time)', async () => {
    const root = new URL('../..', import.meta.url).pathname;
    const result = await runSecrets(['scan', '--json'], { cwd: root, env: { SECRETS_POLICY: undefined } });
    expect(JSON.parse(result.stdout).findings).toEqual([]);
    expect(result.code).toBe(0);
  });
});
