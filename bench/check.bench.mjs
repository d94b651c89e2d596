#!/usr/bin/env node
// `secrets check` start-up and run time on a clean example deployment, as a ratio to `node -e 0`
// measured in the same run (target: under 2.5×). Heavy modules (openpgp, undici, simple-git)
// must stay out of the check path for this to hold.
import { execFileSync, spawnSync } from 'node:child_process';
import { chmodSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { fileURLToPath } from 'node:url';

const bin = join(dirname(fileURLToPath(import.meta.url)), '..', 'bin', 'secrets');
const root = mkdtempSync(join(tmpdir(), 'secrets-bench-check-'));
try {
  const hex = (n) => randomBytes(n).toString('hex');
  writeFileSync(
    join(root, '.env'),
    `DINGTALK_WEBHOOK_URL=https://oapi.dingtalk.com/robot/send?access_token=${hex(32)}\nDINGTALK_SECRET=${'SEC' + hex(32)}\nJWT_SECRET_KEY=${hex(32)}\n`,
    { mode: 0o600 },
  );
  writeFileSync(join(root, '.gitignore'), '.env\n.env.*\n*.gpg\n.secrets/\n');
  writeFileSync(
    join(root, 'secrets.yaml'),
    `version: 1\ndeployment: bench\nsecrets:\n  dingtalk: { kind: dingtalk, rotate_every: 90d }\n  jwt: { kind: random, env_key: JWT_SECRET_KEY, rotate_every: 90d }\ncompliance:\n  modes: { .env: "600" }\n  gitignore: [.env, .env.*, "*.gpg"]\n  placeholders: [change-in-production]\nbackup: { dir: backups, passphrase_env: SECRETS_BACKUP_PASSPHRASE }\n`,
  );
  execFileSync('git', ['init', '-q'], { cwd: root });
  for (const id of ['dingtalk', 'jwt']) execFileSync(process.execPath, [bin, 'record', id], { cwd: root });
  mkdirSync(join(root, 'backups'), { recursive: true });
  chmodSync(root, 0o755);

  const time = (args, runs) => {
    const samples = [];
    for (let i = 0; i < runs; i++) {
      const start = process.hrtime.bigint();
      const result = spawnSync(process.execPath, args, { cwd: root, stdio: 'ignore' });
      samples.push(Number(process.hrtime.bigint() - start) / 1e6);
      if (result.status !== 0 && result.status !== 1) {
        const again = spawnSync(process.execPath, args, { cwd: root, encoding: 'utf8' });
        throw new Error(`${args.join(' ')} exited ${result.status}: ${again.stdout}${again.stderr}`);
      }
    }
    samples.sort((a, b) => a - b);
    return samples[Math.floor(samples.length / 2)];
  };
  time(['-e', '0'], 3);
  time([bin, 'check'], 3);
  const runs = 15;
  const baseline = time(['-e', '0'], runs);
  const check = time([bin, 'check'], runs);
  console.log(`node -e 0        median ${baseline.toFixed(1)} ms (${runs} runs)`);
  console.log(`secrets check    median ${check.toFixed(1)} ms (${runs} runs)`);
  console.log(`check ÷ node -e 0 = ${(check / baseline).toFixed(2)}× (target < 2.5×)`);
} finally {
  rmSync(root, { recursive: true, force: true });
}
