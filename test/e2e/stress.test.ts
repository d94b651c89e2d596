import { spawn } from 'node:child_process';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { envValue, parseDotenv } from '../../src/core/dotenv.js';
import { fingerprint } from '../../src/core/secret.js';
import { BIN, runSecrets } from '../helpers/cli.js';
import { makeDeployment } from '../helpers/deployment.js';
import { fakeHex } from '../helpers/fake-secrets.js';
import { BACKUP_ENV, BACKUP_POLICY } from '../helpers/rotation.js';

const WORKERS = 4;
const COMMANDS_PER_WORKER = 50;
/** One command in this many is killed with SIGKILL after a random delay. */
const KILL_ONE_IN = 8;

type Kind = 'record' | 'backup' | 'rotate' | 'restore' | 'check';
const KINDS: Kind[] = ['record', 'backup', 'rotate', 'restore', 'check'];

interface Ran {
  kind: Kind;
  code: number | null;
  killed: boolean;
  stderr: string;
}

function run(
  args: string[],
  cwd: string,
  killAfterMs: number | undefined,
): Promise<{ code: number | null; stderr: string }> {
  return new Promise((resolve, reject) => {
    const env = { ...process.env, NO_COLOR: '1', ...BACKUP_ENV };
    const child = spawn(process.execPath, [BIN, ...args], { cwd, env, stdio: ['ignore', 'ignore', 'pipe'] });
    let stderr = '';
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString('utf8')));
    const timer = killAfterMs === undefined ? undefined : setTimeout(() => child.kill('SIGKILL'), killAfterMs);
    child.on('error', reject);
    child.on('close', (code) => {
      if (timer) clearTimeout(timer);
      resolve({ code, stderr });
    });
  });
}

describe('stress: 4 processes × 50 random commands on one deployment, with kill -9 among them', () => {
  it('after --recover: the trail verifies, files agree with it, nothing is left, events = successes', async () => {
    const initialKey = fakeHex(64);
    const deploy = makeDeployment({
      files: { '.env': `JWT_SECRET_KEY=${initialKey}\nPORT=8080\n`, 'htpasswd.txt': `admin:${fakeHex(20)}\n` },
      policy: {
        backup: { ...BACKUP_POLICY, files: ['.env', 'htpasswd.txt'], keep: '3650d' },
        secrets: { jwt: { kind: 'random', env_key: 'JWT_SECRET_KEY', rotate_every: '90d' } },
      },
    });
    const cwd = deploy.root;
    const first = await runSecrets(['backup'], { cwd, env: BACKUP_ENV });
    expect(first.code, first.stderr).toBe(0);
    const initialBackup = /backup written and verified: (\S+)/.exec(first.stdout)![1]!;
    const initialText = readFileSync(deploy.path('.env'), 'utf8');

    const argsOf: Record<Kind, string[]> = {
      record: ['record', 'jwt'],
      backup: ['backup'],
      rotate: ['rotate', 'jwt', '--yes', '--wait', '60'],
      restore: ['restore', initialBackup, '--in-place'],
      check: ['check'],
    };
    const results: Ran[] = [];
    const worker = async () => {
      for (let index = 0; index < COMMANDS_PER_WORKER; index++) {
        const kind = KINDS[Math.floor(Math.random() * KINDS.length)]!;
        const kill = Math.floor(Math.random() * KILL_ONE_IN) === 0;
        const outcome = await run(argsOf[kind], cwd, kill ? 30 + Math.floor(Math.random() * 600) : undefined);
        results.push({ kind, code: outcome.code, killed: outcome.code === null, stderr: outcome.stderr });
      }
    };
    await Promise.all(Array.from({ length: WORKERS }, worker));

    const recover = await runSecrets(['rotate', '--recover'], { cwd, env: BACKUP_ENV });
    expect(recover.code, recover.stderr).toBe(0);
    const verify = await runSecrets(['log', '--verify'], { cwd });
    expect(verify.code, verify.stderr + verify.stdout).toBe(0);

    const entries = readFileSync(deploy.path('.secrets/audit.jsonl'), 'utf8')
      .trim()
      .split('\n')
      .map((line) => JSON.parse(line) as { action: string; fingerprint?: string; details?: Record<string, unknown> });
    // The event each successful command records (checks record none).
    const eventOf: Record<Kind, (entry: (typeof entries)[number]) => boolean> = {
      record: (entry) => entry.action === 'recorded',
      backup: (entry) => entry.action === 'backup' && entry.details?.reason === 'manual',
      rotate: (entry) => entry.action === 'rotated',
      restore: (entry) => entry.action === 'restored',
      check: () => false,
    };
    const counts: Record<string, string> = {};
    let successes = 0;
    let events = 0;
    for (const kind of KINDS) {
      const ok = results.filter((result) => result.kind === kind && result.code === 0).length;
      const killed = results.filter((result) => result.kind === kind && result.killed).length;
      const failed = results.filter((result) => result.kind === kind && result.code !== 0 && !result.killed);
      const recorded = entries.filter(eventOf[kind]).length;
      counts[kind] =
        `${ok} ok, ${failed.length} ${kind === 'check' ? 'non-zero (findings)' : 'refused'}, ${killed} killed, ${recorded} events`;
      // A refusal is only ever the lock or a restore with nothing to do; never a crash or a broken trail.
      for (const refusal of failed)
        if (kind !== 'check') expect(refusal.stderr, kind).toMatch(/locked by|nothing was|identical/);
      if (kind === 'check') continue;
      // A command killed after its line was written but before it exited recorded its event without
      // reporting success: the only way the two numbers can differ.
      expect(recorded, kind).toBeGreaterThanOrEqual(ok);
      expect(recorded, kind).toBeLessThanOrEqual(ok + killed);
      successes += ok;
      events += recorded;
    }
    const killedTotal = results.filter((result) => result.killed).length;
    console.log(
      `stress: ${results.length} commands, ${killedTotal} killed; ${successes} successes, ${events} events; ${JSON.stringify(counts)}`,
    );
    expect(results).toHaveLength(WORKERS * COMMANDS_PER_WORKER);

    // The file holds what the trail says: the initial value, or the last rotation's, or (after a
    // restore of the initial backup) the initial value again. Never a mix, never a lost write.
    const key = Buffer.from(readFileSync(deploy.path('.secrets/fingerprint.key'), 'utf8').trim(), 'hex');
    let expected = fingerprint(initialKey, key);
    for (const entry of entries) {
      if (entry.action === 'rotated' && entry.fingerprint) expected = entry.fingerprint;
      if (entry.action === 'restored') expected = fingerprint(initialKey, key);
    }
    const text = readFileSync(deploy.path('.env'), 'utf8');
    const value = envValue(parseDotenv(text, '.env'), 'JWT_SECRET_KEY')!;
    expect(fingerprint(value, key)).toBe(expected);
    expect(text).toBe(initialText.replace(initialKey, value));

    // Nothing left behind: no temp file, no lock, no journal or copy.
    const leftovers = [cwd, deploy.path('.secrets'), deploy.path('backups'), deploy.path('.secrets/rotation')]
      .filter(existsSync)
      .flatMap((dir) => readdirSync(dir).map((name) => join(dir, name)))
      .filter((path) => /\.tmp$|\/lock$|takeover|journal\.json$|previous-\d+$/.test(path));
    expect(leftovers).toEqual([]);
    const check = await runSecrets(['check'], { cwd });
    expect(check.stdout).not.toMatch(/interrupted|audit trail broken|lock:/);
  }, 180_000);
});
