#!/usr/bin/env node
// Backup + verify of a 64 KiB .env, as a ratio to `gpg --symmetric` of the same file, measured in
// the same run (so the figure means the same on a slow machine and a fast one). Two figures:
// - CLI: `bin/secrets backup` as a process (node start-up included), against gpg as a process;
// - in-process: createBackup() as the rotation engine calls it, against the same gpg figure.
// Uses the built dist/ (npm run bench builds first). Fake values are generated here, at run time.
import { spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const repo = join(dirname(fileURLToPath(import.meta.url)), '..');
const RUNS = Number(process.env.BENCH_RUNS ?? 7);
const PASSPHRASE = randomBytes(18).toString('base64');

const work = mkdtempSync(join(tmpdir(), 'secrets-bench-backup-'));
try {
  let env = '';
  for (let index = 0; env.length < 64 * 1024; index++) env += `KEY_${index}=${randomBytes(24).toString('hex')}\n`;
  env = env.slice(0, 64 * 1024 - 1) + '\n';
  writeFileSync(join(work, '.env'), env, { mode: 0o600 });
  writeFileSync(
    join(work, 'secrets.yaml'),
    'version: 1\ndeployment: bench\nsecrets: {}\nbackup:\n  passphrase_env: BENCH_BACKUP_PASSPHRASE\n',
  );
  const gnupg = join(work, 'gnupg');
  spawnSync('mkdir', ['-m', '700', gnupg]);
  writeFileSync(join(work, 'pass'), PASSPHRASE, { mode: 0o600 });

  const median = (values) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)];
  const time = (fn) => {
    const start = process.hrtime.bigint();
    fn();
    return Number(process.hrtime.bigint() - start) / 1e6;
  };
  const timeAsync = async (fn) => {
    const start = process.hrtime.bigint();
    await fn();
    return Number(process.hrtime.bigint() - start) / 1e6;
  };

  const gpgSymmetric = (run) => {
    const result = spawnSync('gpg', [
      '--homedir',
      gnupg,
      '--batch',
      '--yes',
      '--quiet',
      '--pinentry-mode',
      'loopback',
      '--passphrase-file',
      join(work, 'pass'),
      '--symmetric',
      '--cipher-algo',
      'AES256',
      '--output',
      join(work, `gpg-${run}.gpg`),
      join(work, '.env'),
    ]);
    if (result.status !== 0) throw new Error(`gpg failed: ${result.stderr}`);
  };
  const cliBackup = () => {
    const result = spawnSync(process.execPath, [join(repo, 'bin', 'secrets'), 'backup', '--reason', 'bench'], {
      cwd: work,
      env: { ...process.env, BENCH_BACKUP_PASSPHRASE: PASSPHRASE, NO_COLOR: '1' },
    });
    if (result.status !== 0) throw new Error(`secrets backup failed: ${result.stderr}`);
  };

  const { createBackup } = await import(join(repo, 'dist', 'services', 'backup.js'));
  const { loadPolicy } = await import(join(repo, 'dist', 'services', 'policy', 'load-policy.js'));
  const { nodeFileStore } = await import(join(repo, 'dist', 'adapters', 'files.js'));
  const { systemClock } = await import(join(repo, 'dist', 'adapters', 'clock.js'));
  const { openPgp } = await import(join(repo, 'dist', 'adapters', 'openpgp.js'));
  const deps = {
    files: nodeFileStore,
    clock: systemClock,
    output: { out() {}, err() {}, isTTY: false, color: false },
    env: { BENCH_BACKUP_PASSPHRASE: PASSPHRASE },
    actor: 'bench',
    cwd: work,
    interactive: false,
    prompts: {},
    loadPgp: async () => openPgp,
  };
  const policy = await loadPolicy(join(work, 'secrets.yaml'), deps);

  gpgSymmetric('warm');
  cliBackup();
  await createBackup({ policy, reason: 'bench warm-up' }, deps);
  const gpgTimes = [];
  const cliTimes = [];
  const inProcessTimes = [];
  for (let run = 0; run < RUNS; run++) {
    gpgTimes.push(time(() => gpgSymmetric(run)));
    cliTimes.push(time(cliBackup));
    inProcessTimes.push(await timeAsync(() => createBackup({ policy, reason: 'bench' }, deps)));
  }
  const gpgMs = median(gpgTimes);
  const cliMs = median(cliTimes);
  const inMs = median(inProcessTimes);
  console.log(`64 KiB .env, median of ${RUNS} runs`);
  console.log(`gpg --symmetric --cipher-algo AES256:        ${gpgMs.toFixed(1)} ms`);
  console.log(
    `secrets backup (process, encrypt + verify):  ${cliMs.toFixed(1)} ms  ratio ${(cliMs / gpgMs).toFixed(2)}x gpg`,
  );
  console.log(
    `createBackup() in process (what rotate pays): ${inMs.toFixed(1)} ms  ratio ${(inMs / gpgMs).toFixed(2)}x gpg`,
  );
} finally {
  rmSync(work, { recursive: true, force: true });
}
