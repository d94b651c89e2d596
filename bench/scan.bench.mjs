#!/usr/bin/env node
// `npm run bench` entry for `secrets scan`, against the built dist/. It builds (and caches) a
// corpus in bench/.corpus: a git repository whose commits are successive npm releases of
// lodash, with fake secrets planted at known commits, then prints
//   - history scan time ÷ `git log -p -U0 --all` time, and the scanner's peak RSS, on that small
//     history and on a 50k-commit one built in a temp folder with git fast-import, for both
//     history engines (`diff`: every commit's diff; `blobs`: each blob once, then only the diffs
//     of commits bringing a finding), and whether the two engines report the same findings,
//   - staged scan time ÷ `git diff --cached -U0` on a change to every file, and its peak RSS,
//   - working-tree scan time ÷ secretlint 12 (recommended preset) time on the same tree,
//   - recall on the planted secrets,
//   - findings on real public code: a copy of this project's node_modules, and the folders REAL_CODE
//     names (what is reported there is a test fixture or a documented example, next to never a secret),
//   - detection on peer scanners' test cases (gitleaks, secretlint), when PEER_CASES names a
//     folder holding them (gitleaks-cases.tsv, gitleaks-sample-secrets.tsv, secretlint-cases/):
//     read there, never copied into this repository.
import { execFileSync, spawnSync } from 'node:child_process';
import {
  closeSync,
  cpSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  openSync,
  readdirSync,
  readFileSync,
  rmSync,
  statSync,
  writeFileSync,
  writeSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
const projectRoot = resolve(here, '..');
const corpusDir = join(here, '.corpus');
const repoDir = join(corpusDir, 'lodash-history');
const tarballs = join(corpusDir, 'tarballs');
const plantedFile = join(corpusDir, 'planted.json');
const PACKAGE = 'lodash';
const VERSION_COUNT = 36;
// v2: planted GitHub tokens carry a valid checksum (the rule now checks it).
const CORPUS_VERSION = 'v2';
const dist = (path) => pathToFileURL(join(projectRoot, 'dist', path)).href;

// ---------- worker mode: one measured scan in a fresh process (for a clean peak RSS) ----------
if (process.argv[2] === '--worker') {
  const [mode, cwd, engine] = process.argv.slice(3);
  const { runScan } = await import(dist('services/scan.js'));
  const { createScanSources } = await import(dist('adapters/scan-sources.js'));
  const { nodeFileStore } = await import(dist('adapters/files.js'));
  const started = performance.now();
  const input = { cwd, mode, ...(engine ? { historyEngine: engine } : {}) };
  const outcome = await runScan(input, { sources: createScanSources(), files: nodeFileStore });
  const ms = performance.now() - started;
  const found = outcome.findings.map((f) => ({
    file: f.file,
    line: f.line,
    commit: f.commit,
    laterCommits: f.laterCommits,
    value: f.secret.reveal(),
    ruleId: f.ruleId,
  }));
  process.stdout.write(
    JSON.stringify({
      ms,
      maxRssMb: process.resourceUsage().maxRSS / 1024,
      found,
      commits: outcome.scanned.commits,
      files: outcome.scanned.files,
    }),
  );
  process.exit(0);
}

// ---------- deterministic fake values ----------
function prng(seed) {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
const random = prng(20240601);
const pick = (alphabet, n) =>
  Array.from({ length: n }, () => alphabet[Math.floor(random() * alphabet.length)]).join('');
const ALNUM = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789';
const HEX = '0123456789abcdef';
const B64 = ALNUM + '+/';
const p = (...parts) => parts.join('');
/** A GitHub token body whose checksum holds: 30 random characters, then their CRC32 in base62. */
let withChecksum;
const githubToken = () => p('ghp_', withChecksum(pick(ALNUM, 30)));

function git(args, options = {}) {
  return execFileSync('git', args, { cwd: repoDir, encoding: 'utf8', maxBuffer: 1 << 30, ...options });
}

function buildCorpus() {
  if (
    existsSync(join(repoDir, '.git')) &&
    existsSync(plantedFile) &&
    readFileSync(join(corpusDir, 'VERSION'), 'utf8').trim() === CORPUS_VERSION
  )
    return;
  console.log(`building the corpus in ${relative(projectRoot, corpusDir)} (cached afterwards)`);
  rmSync(repoDir, { recursive: true, force: true });
  mkdirSync(tarballs, { recursive: true });
  const versions = JSON.parse(execFileSync('npm', ['view', PACKAGE, 'versions', '--json'], { encoding: 'utf8' }))
    .filter((version) => /^4\.\d+\.\d+$/.test(version))
    .slice(0, VERSION_COUNT);
  const missing = versions.filter((version) => !existsSync(join(tarballs, `${PACKAGE}-${version}.tgz`)));
  if (missing.length > 0) {
    execFileSync(
      'npm',
      ['pack', '--silent', '--pack-destination', tarballs, ...missing.map((version) => `${PACKAGE}@${version}`)],
      { stdio: ['ignore', 'ignore', 'inherit'] },
    );
  }
  mkdirSync(repoDir, { recursive: true });
  git(['init', '-q', '-b', 'main']);
  git(['config', 'user.name', 'Bench']);
  git(['config', 'user.email', 'bench@example.org']);
  git(['config', 'commit.gpgsign', 'false']);
  const planted = [];
  const plant = (index, file, value, line) => planted.push({ index, file, value, line });
  // Fake secrets, one per family this deployment cares about, at known commits.
  const plans = {
    3: () => {
      const id = p('AKIA', pick('ABCDEFGHIJKLMNOPQRSTUVWXYZ234567', 16));
      const key = pick(B64, 40);
      plant(3, 'config/aws.env', id);
      plant(3, 'config/aws.env', key);
      return { 'config/aws.env': `AWS_ACCESS_KEY_ID=${id}\nAWS_SECRET_ACCESS_KEY=${key}\n` };
    },
    6: () => {
      const pass = p(pick(ALNUM, 14), '!7');
      const ssh = pick(ALNUM, 16);
      plant(6, 'scripts/deploy.sh', pass);
      plant(6, 'scripts/deploy.sh', ssh);
      return {
        'scripts/deploy.sh': `#!/bin/sh\ncurl -fsS -u deploy:${pass} https://ci.internal/hook\nsshpass -p ${ssh} ssh ops@10.0.0.5 uptime\n`,
      };
    },
    9: () => {
      const token = githubToken();
      plant(9, '.github/token.txt', token);
      return { '.github/token.txt': `${token}\n` };
    },
    12: () => ({ '.github/token.txt': null }),
    14: () => {
      const dbPass = pick(ALNUM, 20);
      const secretKey = pick(ALNUM, 48);
      plant(14, 'app/settings.py', dbPass);
      plant(14, 'app/settings.py', secretKey);
      return {
        'app/settings.py': `DATABASE_URL = "postgresql://trader:${dbPass}@db:5432/trading"\nSECRET_KEY = "${secretKey}"\n`,
      };
    },
    18: () => {
      const token = pick(HEX, 64);
      const sec = p('SEC', pick(HEX, 64));
      plant(18, 'notify/dingtalk.json', token);
      plant(18, 'notify/dingtalk.json', sec);
      return {
        'notify/dingtalk.json':
          JSON.stringify(
            { webhook: p('https://oapi.dingtalk', '.com/robot/send?access_token=', token), secret: sec },
            null,
            2,
          ) + '\n',
      };
    },
    21: () => {
      const body = Array.from({ length: 12 }, () => pick(B64, 64)).join('\n');
      plant(21, 'keys/id_rsa', body.split('\n')[0]);
      return { 'keys/id_rsa': `-----BEGIN RSA ${'PRIVATE'} KEY-----\n${body}\n-----END RSA PRIVATE KEY-----\n` };
    },
    25: () => {
      const key = pick(HEX, 64);
      plant(25, 'wallet/config.ts', key);
      return { 'wallet/config.ts': `export const WALLET_PRIVATE_KEY = "0x${key}";\n` };
    },
    28: () => {
      const mysql = p(pick(ALNUM, 12), '9');
      const ht = p(pick(ALNUM, 12), '4');
      plant(28, 'docs/ops.md', mysql);
      plant(28, 'docs/ops.md', ht);
      return {
        'docs/ops.md': `# Ops\n\n    mysql -u root -p${mysql} trading < seed.sql\n    htpasswd -b -c /etc/nginx/.htpasswd admin ${ht}\n`,
      };
    },
    31: () => {
      const stripe = p('sk_live_', pick(ALNUM, 24));
      const slack = p(
        'https://hooks.slack',
        '.com/services/T',
        pick('ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789', 8),
        '/B',
        pick('ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789', 8),
        '/',
        pick(ALNUM, 24),
      );
      plant(31, 'lib/pay.js', stripe);
      plant(31, 'lib/pay.js', slack);
      return { 'lib/pay.js': `const stripe = require('stripe')('${stripe}');\nconst SLACK_WEBHOOK = '${slack}';\n` };
    },
  };
  const tracked = new Map();
  versions.forEach((version, position) => {
    const index = position + 1;
    // Replace the package folder with this release.
    rmSync(join(repoDir, 'package'), { recursive: true, force: true });
    execFileSync('tar', ['-xzf', join(tarballs, `${PACKAGE}-${version}.tgz`), '-C', repoDir]);
    const extra = plans[index]?.() ?? {};
    for (const [file, content] of Object.entries(extra)) {
      if (content === null) tracked.delete(file);
      else tracked.set(file, content);
      rmSync(join(repoDir, file), { force: true });
    }
    for (const [file, content] of tracked) {
      mkdirSync(dirname(join(repoDir, file)), { recursive: true });
      writeFileSync(join(repoDir, file), content);
    }
    git(['add', '-A']);
    const date = new Date(Date.UTC(2016, 0, 1) + index * 86_400_000).toISOString();
    git(['commit', '-q', '-m', `${PACKAGE} ${version}`], {
      env: { ...process.env, GIT_AUTHOR_DATE: date, GIT_COMMITTER_DATE: date },
    });
  });
  // A branch that is never checked out, with its own leak.
  const sideToken = p(pick('0123456789', 10), ':AA', pick(ALNUM + '_-', 33));
  const mainHead = git(['rev-parse', 'HEAD']).trim();
  git(['checkout', '-q', '-b', 'side', 'HEAD~10']);
  mkdirSync(join(repoDir, 'bot'), { recursive: true });
  writeFileSync(join(repoDir, 'bot/telegram.env'), `TELEGRAM_BOT_TOKEN=${sideToken}\n`);
  git(['add', '-A']);
  git(['commit', '-q', '-m', 'side branch leak']);
  git(['checkout', '-q', 'main']);
  plant(VERSION_COUNT + 1, 'bot/telegram.env', sideToken);
  void mainHead;
  writeFileSync(plantedFile, JSON.stringify(planted, null, 2));
  writeFileSync(join(corpusDir, 'VERSION'), `${CORPUS_VERSION}\n`);
}

/**
 * CPU time (user + system, ms) of this process's children that have ended, from /proc: what a
 * command cost in CPU whatever else the machine was doing (the wall time is at the mercy of other
 * load on a shared machine). Undefined where /proc is missing.
 */
function childrenCpuMs() {
  try {
    const fields = readFileSync('/proc/self/stat', 'utf8').split(') ')[1].split(' ');
    // After the name: state is field 3; cutime and cstime are fields 16 and 17, in clock ticks (100/s).
    return ((Number(fields[13]) + Number(fields[14])) * 1000) / 100;
  } catch {
    return undefined;
  }
}

function timeCommand(command, args, options = {}) {
  const started = performance.now();
  const cpuBefore = childrenCpuMs();
  const result = spawnSync(command, args, { stdio: ['ignore', 'ignore', 'pipe'], maxBuffer: 1 << 30, ...options });
  const cpuMs = cpuBefore === undefined ? undefined : childrenCpuMs() - cpuBefore;
  return { ms: performance.now() - started, cpuMs, status: result.status, stderr: String(result.stderr ?? '') };
}

function worker(mode, cwd, engine) {
  const args = [fileURLToPath(import.meta.url), '--worker', mode, cwd, ...(engine ? [engine] : [])];
  const cpuBefore = childrenCpuMs();
  const result = spawnSync(process.execPath, args, {
    encoding: 'utf8',
    maxBuffer: 1 << 28,
  });
  if (result.status !== 0) throw new Error(`scan worker failed: ${result.stderr}`);
  // The worker's CPU and its git processes' (node reaps them), node's start-up included.
  const cpuMs = cpuBefore === undefined ? undefined : childrenCpuMs() - cpuBefore;
  return { ...JSON.parse(result.stdout), cpuMs };
}

/**
 * A synthetic history of `count` commits on one branch, written with `git fast-import` into a
 * temp folder (the caller removes it). Returns the folder and the planted fake secrets.
 */
function buildLargeHistory(count) {
  const dir = mkdtempSync(join(tmpdir(), 'secrets-bench-history-'));
  execFileSync('git', ['init', '-q', '-b', 'main', dir]);
  const FILES = 400;
  const LINES = 30;
  const files = Array.from({ length: FILES }, (_, f) =>
    Array.from(
      { length: LINES },
      (_, l) => `export const value_${f}_${l} = compute(${f}, ${l}); // ${pick(ALNUM, 24)}`,
    ),
  );
  const plantAt = new Map([
    [Math.floor(count * 0.02), githubToken],
    [Math.floor(count * 0.5), () => p('AKIA', pick('ABCDEFGHIJKLMNOPQRSTUVWXYZ234567', 16))],
    [Math.floor(count * 0.98), () => p('sk_live_', pick(ALNUM, 24))],
  ]);
  const planted = [];
  const chunks = [];
  let size = 0;
  // The stream goes to a file first, then to fast-import's stdin: no pipe to keep fed.
  const streamFile = join(dir, '.git', 'bench-fast-import');
  const fd = openSync(streamFile, 'w');
  const flush = () => {
    writeSync(fd, chunks.join(''));
    chunks.length = 0;
    size = 0;
  };
  for (let commit = 1; commit <= count; commit++) {
    const f = Math.floor(random() * FILES);
    const lines = files[f];
    const l = Math.floor(random() * LINES);
    lines[l] = `export const value_${f}_${l} = compute(${commit}, ${l}); // ${pick(ALNUM, 24)}`;
    const make = plantAt.get(commit);
    if (make) {
      const value = make();
      planted.push(value);
      lines[(l + 1) % LINES] = `const credential = "${value}";`;
    }
    const content = `${lines.join('\n')}\n`;
    const message = `change ${commit}\n`;
    chunks.push(
      `commit refs/heads/main\nmark :${commit}\ncommitter Bench <bench@example.org> ${1_500_000_000 + commit * 60} +0000\ndata ${Buffer.byteLength(message)}\n${message}`,
      commit > 1 ? `from :${commit - 1}\n` : '',
      `M 100644 inline src/module_${f}.js\ndata ${Buffer.byteLength(content)}\n${content}\n`,
    );
    size += content.length;
    if (size > 1 << 20) flush();
  }
  flush();
  closeSync(fd);
  const input = openSync(streamFile, 'r');
  const result = spawnSync('git', ['fast-import', '--quiet'], { cwd: dir, stdio: [input, 'ignore', 'inherit'] });
  closeSync(input);
  rmSync(streamFile);
  if (result.status !== 0) throw new Error('git fast-import failed');
  return { dir, planted };
}

const best = (runs) => runs.reduce((a, b) => (b.ms < a.ms ? b : a));
const fmt = (n, digits = 2) => n.toFixed(digits);

// ---------- 1. build, corpus ----------
// `npm run bench` builds first; a direct run builds only when dist/ is missing.
if (!existsSync(join(projectRoot, 'dist', 'services', 'scan.js')))
  execFileSync('npm', ['run', '--silent', 'build'], { cwd: projectRoot, stdio: 'inherit' });
({ withBase62Crc32: withChecksum } = await import(dist('core/scan/checksums.js')));
buildCorpus();
const planted = JSON.parse(readFileSync(plantedFile, 'utf8'));
const commitCount = Number(git(['rev-list', '--all', '--count']).trim());
console.log(
  `corpus: ${commitCount} commits (${VERSION_COUNT} releases of ${PACKAGE} + a side branch), ${planted.length} planted fake secrets`,
);

if (!process.env.BENCH_PEER_ONLY) {
  // ---------- 2. history ----------
  // git and the two engines alternate, and each ratio is the median of three rounds: the machine
  // may be shared, and alternating keeps a burst of load from landing on one side only.
  const ENGINES = ['diff', 'blobs'];
  const sameFindings = (a, b) => {
    const key = (list) =>
      list
        .map((f) => [f.file, f.line, f.commit, f.laterCommits, f.ruleId, f.value].join('\u0000'))
        .sort()
        .join('\n');
    return key(a) === key(b);
  };
  const rounds = [1, 2, 3].map(() => {
    const gitRun = timeCommand('git', ['log', '-p', '-U0', '--all'], { cwd: repoDir });
    return {
      gitMs: gitRun.ms,
      gitCpuMs: gitRun.cpuMs,
      ...Object.fromEntries(ENGINES.map((engine) => [engine, worker('history', repoDir, engine)])),
    };
  });
  for (const engine of ENGINES) {
    const ratios = rounds.map((round) => round[engine].ms / round.gitMs).sort((a, b) => a - b);
    const median = rounds.find((round) => round[engine].ms / round.gitMs === ratios[1]);
    const history = median[engine];
    const peakRss = Math.max(...rounds.map((round) => round[engine].maxRssMb));
    const foundValues = new Set(history.found.map((f) => `${f.file}\u0000${f.value}`));
    const plantedFound = planted.filter((plant) =>
      [...foundValues].some((key) => key.startsWith(`${plant.file}\u0000`) && key.includes(plant.value)),
    );
    const cpuRatios = rounds.map((round) => round[engine].cpuMs / round.gitCpuMs).sort((a, b) => a - b);
    console.log(
      `history scan (${engine}): ${fmt(history.ms / 1000)} s for ${history.commits} commits; git log -p -U0 --all: ${fmt(median.gitMs / 1000)} s; ratio ${fmt(history.ms / median.gitMs)} (median of ${ratios.map((ratio) => fmt(ratio)).join(', ')}; target <= 1.0); CPU ratio ${fmt(cpuRatios[1])} (node start-up and git children included); peak RSS ${fmt(peakRss, 0)} MB; planted found ${plantedFound.length}/${planted.length}`,
    );
    const missed = planted.filter((plant) => !plantedFound.includes(plant));
    if (missed.length) console.log(`  missed: ${missed.map((plant) => `${plant.file}@${plant.index}`).join(', ')}`);
  }
  const smallSame = rounds.every((round) => sameFindings(round.diff.found, round.blobs.found));
  console.log(`history engines report the same findings (small history): ${smallSame ? 'yes' : 'NO'}`);
  const otherFindings = rounds[0].diff.found.filter((f) => !planted.some((plant) => plant.file === f.file));
  console.log(
    `other history findings (in lodash itself): ${otherFindings.length}${otherFindings.length ? ` (${[...new Set(otherFindings.map((f) => `${f.ruleId}:${f.file}`))].slice(0, 5).join(', ')})` : ''}`,
  );

  // ---------- 2b. a 50k-commit history ----------
  // Built fresh in a temp folder with git fast-import (seconds): each commit changes a line or two
  // of one of 400 small files, the shape of a long-lived application repository. Three fake
  // secrets are planted far apart. git runs before and after the engines (a run takes seconds
  // on each side); each ratio is against the mean of the two git runs.
  const big = buildLargeHistory(Number(process.env.BENCH_COMMITS ?? 50_000));
  try {
    const before = timeCommand('git', ['log', '-p', '-U0', '--all'], { cwd: big.dir });
    const runs = Object.fromEntries(ENGINES.map((engine) => [engine, worker('history', big.dir, engine)]));
    const after = timeCommand('git', ['log', '-p', '-U0', '--all'], { cwd: big.dir });
    const gitMs = (before.ms + after.ms) / 2;
    for (const engine of ENGINES) {
      const run = runs[engine];
      const foundBig = big.planted.filter((value) => run.found.some((f) => f.value.includes(value)));
      const gitCpuMs = (before.cpuMs + after.cpuMs) / 2;
      console.log(
        `large history (${engine}, ${run.commits} commits, fast-import): scan ${fmt(run.ms / 1000)} s; git log -p -U0 --all ${fmt(gitMs / 1000)} s (${fmt(before.ms / 1000)}, ${fmt(after.ms / 1000)}); ratio ${fmt(run.ms / gitMs)}; CPU ratio ${fmt(run.cpuMs / gitCpuMs)}; peak RSS ${fmt(run.maxRssMb, 0)} MB; planted found ${foundBig.length}/${big.planted.length}`,
      );
    }
    console.log(
      `history engines report the same findings (large history): ${sameFindings(runs.diff.found, runs.blobs.found) ? 'yes' : 'NO'}`,
    );
  } finally {
    rmSync(big.dir, { recursive: true, force: true });
  }

  // ---------- 2c. the staged change ----------
  // A clone of the corpus with every file of the package changed and staged: the scan against
  // `git diff --cached -U0`, the diff it reads.
  const stagedDir = mkdtempSync(join(tmpdir(), 'secrets-bench-staged-'));
  try {
    execFileSync('git', ['clone', '-q', repoDir, stagedDir]);
    const packageDir = join(stagedDir, 'package');
    let touched = 0;
    for (const name of readdirSync(packageDir)) {
      const path = join(packageDir, name);
      if (!statSync(path).isFile()) continue;
      writeFileSync(
        path,
        `${readFileSync(path, 'utf8')}\n// staged change ${touched++}\nconst apiVersion = "v${touched}";\n`,
      );
    }
    execFileSync('git', ['add', '-A'], { cwd: stagedDir });
    const stagedPairs = [1, 2, 3].map(() => {
      const gitRun = timeCommand('git', ['diff', '--cached', '-U0'], { cwd: stagedDir });
      const scanRun = worker('staged', stagedDir);
      return { ratio: scanRun.ms / gitRun.ms, scan: scanRun, gitMs: gitRun.ms };
    });
    const stagedMedian = [...stagedPairs].sort((a, b) => a.ratio - b.ratio)[1];
    console.log(
      `staged scan (${touched} files changed): ${fmt(stagedMedian.scan.ms)} ms; git diff --cached -U0: ${fmt(stagedMedian.gitMs)} ms; ratio ${fmt(stagedMedian.ratio)} (the scan includes node start-up); peak RSS ${fmt(Math.max(...stagedPairs.map((pair) => pair.scan.maxRssMb)), 0)} MB`,
    );
  } finally {
    rmSync(stagedDir, { recursive: true, force: true });
  }

  // ---------- 3. working tree vs secretlint ----------
  const secretlintBin = join(projectRoot, 'node_modules', '.bin', 'secretlint');
  const tree = best([1, 2, 3].map(() => worker('tree', repoDir)));
  let secretlintMs;
  if (existsSync(secretlintBin)) {
    const rc = join(corpusDir, 'secretlintrc.json');
    writeFileSync(rc, JSON.stringify({ rules: [{ id: '@secretlint/secretlint-rule-preset-recommend' }] }));
    const runs = [1].map(() =>
      timeCommand(secretlintBin, ['--secretlintrc', rc, '--no-color', '--format', 'json', '**/*'], { cwd: repoDir }),
    );
    const run = best(runs);
    if (run.status !== 0 && run.status !== 1)
      console.log(`secretlint exited ${run.status}: ${run.stderr.slice(0, 300)}`);
    secretlintMs = run.ms;
  }
  console.log(`working-tree scan peak RSS: ${fmt(tree.maxRssMb, 0)} MB`);
  console.log(
    `working-tree scan: ${fmt(tree.ms)} ms for ${tree.files} files${secretlintMs ? `; secretlint 12: ${fmt(secretlintMs)} ms; ratio ${fmt(tree.ms / secretlintMs, 3)} (target <= 0.2)` : ' (secretlint not installed)'}`,
  );
}

// ---------- 3b. precision on real public code ----------
// Thousands of files of published code that holds no one's secrets: this project's node_modules (npm ci
// installs the same versions on every clone), and any folders REAL_CODE names (colon-separated, outside
// a git work tree: a Python site-packages, say). What is reported there is a test fixture or a
// documented example, next to never a secret.
function realCodeFindings(label, cwd, target) {
  const started = process.hrtime.bigint();
  const run = spawnSync(process.execPath, [join(projectRoot, 'bin', 'secrets'), 'scan', '--json', target], {
    cwd,
    encoding: 'utf8',
    maxBuffer: 256 * 1024 * 1024,
  });
  const ms = Number(process.hrtime.bigint() - started) / 1e6;
  if (run.status !== 0 && run.status !== 1) {
    console.log(`real public code, ${label}: scan exited ${run.status}: ${run.stderr.slice(0, 300)}`);
    return;
  }
  const report = JSON.parse(run.stdout);
  const byRule = new Map();
  for (const finding of report.findings) byRule.set(finding.ruleId, (byRule.get(finding.ruleId) ?? 0) + 1);
  const rulesText = [...byRule]
    .sort((a, b) => b[1] - a[1])
    .map(([id, n]) => `${id} ${n}`)
    .join(', ');
  console.log(
    `real public code, ${label}: ${report.findings.length} findings in ${report.scanned.files} files, ${fmt(ms, 0)} ms${rulesText ? ` (${rulesText})` : ''}`,
  );
}
if (!process.env.BENCH_PEER_ONLY) {
  const modules = join(projectRoot, 'node_modules');
  if (!existsSync(modules)) {
    console.log('real public code: node_modules not installed; skipped');
  } else {
    // Copied out of this work tree: inside it, node_modules is ignored and would not be scanned.
    const copy = mkdtempSync(join(tmpdir(), 'secrets-bench-modules-'));
    try {
      cpSync(modules, join(copy, 'node_modules'), { recursive: true, verbatimSymlinks: true });
      realCodeFindings("this project's node_modules", copy, 'node_modules');
    } finally {
      rmSync(copy, { recursive: true, force: true });
    }
  }
  for (const folder of (process.env.REAL_CODE ?? '').split(':').filter(Boolean)) {
    if (existsSync(folder)) realCodeFindings(folder, resolve(folder), '.');
    else console.log(`real public code: ${folder} not found; skipped`);
  }
}

// ---------- 4. peer cases ----------
const peerDir = process.env.PEER_CASES ? resolve(process.env.PEER_CASES) : undefined;
if (!peerDir || !existsSync(peerDir)) {
  console.log(`peer cases ${peerDir ? `not found at ${peerDir}` : 'not given (PEER_CASES)'}; skipped`);
  process.exit(0);
}
const { Detector } = await import(dist('core/scan/detector.js'));
const { rules } = await import(dist('core/scan/rules.js'));
const detector = new Detector({ rules });
const unescape = (text) => text.replace(/\\(\\|n|t|r)/g, (_, c) => ({ '\\': '\\', n: '\n', t: '\t', r: '\r' })[c]);
const tally = new Map();
const count = (family, key) => {
  const entry = tally.get(family) ?? { tp: 0, tpFound: 0, fp: 0, fpFlagged: 0, fpOther: 0 };
  entry[key]++;
  tally.set(family, entry);
};
const familyOf = (ruleId) =>
  ruleId.replace(
    /-(?:api|access|secret|client|org|service|admin|app|bot|user|legacy|config|refresh|workspace|webhook|pat|fine-grained|token|key|id|url|header|auth|sensitive|password|yaml|file|routable|runner|authentication|ptt|rrt|long-lived|short-lived|page|base64|cloud|batch|amazon|bedrock|tf|v2|test)(?=-|$).*$/,
    '',
  ) || ruleId;
let gitleaksTp = 0;
let gitleaksTpFound = 0;
let gitleaksFp = 0;
let gitleaksFpFlaggedSame = 0;
let gitleaksFpFlaggedOther = 0;
const missedTp = [];
for (const row of readFileSync(join(peerDir, 'gitleaks-cases.tsv'), 'utf8').split('\n')) {
  if (!row || row.startsWith('#') || row.startsWith('rule_id\t')) continue;
  const [ruleId, kind, rawString, rawPath] = row.split('\t');
  const text = unescape(rawString ?? '');
  const file = rawPath ? unescape(rawPath) : 'case.txt';
  const findings = detector.detect({ text, file });
  const family = familyOf(ruleId);
  if (kind === 'tp') {
    gitleaksTp++;
    count(family, 'tp');
    if (findings.length > 0 || detector.detectPath(file).length > 0) {
      gitleaksTpFound++;
      count(family, 'tpFound');
    } else missedTp.push(ruleId);
  } else if (kind === 'fp') {
    gitleaksFp++;
    count(family, 'fp');
    if (findings.length > 0) {
      // gitleaks checks an fp against its own rule only: a hit of a different family is reported apart.
      const sameFamily = findings.some(
        (f) => f.family === family || familyOf(f.ruleId) === family || (family === 'generic' && f.family === 'generic'),
      );
      if (sameFamily) {
        gitleaksFpFlaggedSame++;
        count(family, 'fpFlagged');
      } else {
        gitleaksFpFlaggedOther++;
        count(family, 'fpOther');
      }
    }
  }
}
console.log(
  `\ngitleaks rule examples: recall ${gitleaksTpFound}/${gitleaksTp} = ${fmt((100 * gitleaksTpFound) / gitleaksTp, 1)}% (target >= 85%)`,
);
console.log(
  `gitleaks false examples flagged: ${gitleaksFpFlaggedSame}/${gitleaksFp} = ${fmt((100 * gitleaksFpFlaggedSame) / gitleaksFp, 1)}% by the matching family (target <= 5%); ${gitleaksFpFlaggedOther} more by another rule`,
);
let sampleTotal = 0;
let sampleFound = 0;
for (const row of readFileSync(join(peerDir, 'gitleaks-sample-secrets.tsv'), 'utf8').split('\n')) {
  if (!row || row.startsWith('#') || row.startsWith('rule_id\t')) continue;
  const [, , secret, sampleLine] = row.split('\t');
  sampleTotal++;
  const text = sampleLine ? unescape(sampleLine) : `key = "${unescape(secret)}"`;
  if (detector.detect({ text, file: 'case.txt' }).length > 0) sampleFound++;
}
console.log(`gitleaks sample secrets (in their sample line or key = "..."): ${sampleFound}/${sampleTotal}`);

// secretlint fixtures
const slDir = join(peerDir, 'secretlint-cases');
let slLeak = 0;
let slLeakFound = 0;
let slClean = 0;
let slCleanFlagged = 0;
const slMissed = [];
const slFlagged = [];
const slFamilies = new Map();
// Fixtures that test secretlint itself rather than a secret format, or whose "secret" is a
// placeholder that the issue says must NOT be reported (repeated letters, xxxx, EXAMPLE,
// user:pass@example.com). Reported apart, with the reason, next to the raw figure.
const SECRETLINT_FEATURES = new Set(['example', 'filter-comments', 'pattern', 'no-homedir', 'no-dotenv']);
const PLACEHOLDER_FIXTURES = new Map([
  ['secretlint-rule-huggingface/ng.secret', 'hf_ followed by x only'],
  ['secretlint-rule-linear/ng.secret', 'ends in EXAMPLE'],
  ['secretlint-rule-stripe/ng.secret', 'AAAA…/BBBB… repeated letters'],
  ['secretlint-rule-basicauth/ng.basic-auth-ftp-url', 'user:pass@example.com'],
  ['secretlint-rule-basicauth/ng.basic-auth-http-url', 'user:pass@example.com'],
  ['secretlint-rule-basicauth/ng.basic-auth-in-markdown', 'user:pass@example.com'],
]);
const excludedWhy = (rule, caseDir, customConfig, note, expected) => {
  if (SECRETLINT_FEATURES.has(rule.replace('secretlint-rule-', ''))) return 'secretlint feature, not a secret format';
  if (note) return 'expectation contradicts the folder name';
  if (expected === 'clean' && customConfig && /"allows"|false/.test(customConfig))
    return 'clean only with a secretlint allow option';
  if (caseDir === 'ng.AWS Account ID') return 'an account id, not a secret';
  if (rule === 'secretlint-rule-tailscale' && caseDir.startsWith('ng.')) return 'repeated-letter placeholder';
  return PLACEHOLDER_FIXTURES.get(`${rule}/${caseDir}`);
};
const adjusted = { leak: 0, found: 0, clean: 0, flagged: 0, excluded: new Map() };
for (const row of readFileSync(join(slDir, 'INDEX.tsv'), 'utf8').split('\n').slice(1)) {
  if (!row) continue;
  const [rule, fixture, expected, , caseDir, , , , , customConfig, note] = row.split('\t');
  const why = excludedWhy(rule, caseDir ?? '', customConfig, note, expected);
  const path = join(slDir, fixture);
  if (!existsSync(path) || !statSync(path).isFile()) continue;
  const bytes = readFileSync(path);
  const name = fixture.split('/').pop();
  const isBinary = bytes.subarray(0, 8000).includes(0);
  const findings = isBinary
    ? detector.detectPath(name)
    : detector.detect({ text: bytes.toString('utf8').replace(/\r\n/g, '\n'), file: name });
  const family = rule.replace('secretlint-rule-', '');
  const entry = slFamilies.get(family) ?? { leak: 0, found: 0, clean: 0, flagged: 0 };
  if (expected === 'leak') {
    slLeak++;
    entry.leak++;
    if (findings.length > 0) {
      slLeakFound++;
      entry.found++;
    } else slMissed.push(fixture.split('/').slice(0, 2).join('/'));
  } else {
    slClean++;
    entry.clean++;
    if (findings.length > 0) {
      slCleanFlagged++;
      entry.flagged++;
      slFlagged.push(
        `${fixture.split('/').slice(0, 2).join('/')} (${[...new Set(findings.map((f) => f.ruleId))].join(',')})`,
      );
    }
  }
  slFamilies.set(family, entry);
  if (why) adjusted.excluded.set(why, (adjusted.excluded.get(why) ?? 0) + 1);
  else if (expected === 'leak') {
    adjusted.leak++;
    if (findings.length > 0) adjusted.found++;
  } else {
    adjusted.clean++;
    if (findings.length > 0) adjusted.flagged++;
  }
}
console.log(
  `secretlint leak fixtures found: ${slLeakFound}/${slLeak} = ${fmt((100 * slLeakFound) / slLeak, 1)}% (target >= 90%)`,
);
console.log(
  `secretlint clean fixtures flagged: ${slCleanFlagged}/${slClean} = ${fmt((100 * slCleanFlagged) / slClean, 1)}% (target <= 5%)`,
);
console.log(
  `secretlint, without ${[...adjusted.excluded.values()].reduce((a, b) => a + b, 0)} fixtures (${[...adjusted.excluded.entries()].map(([why, n]) => `${n} ${why}`).join('; ')}): ` +
    `leaks found ${adjusted.found}/${adjusted.leak} = ${fmt((100 * adjusted.found) / adjusted.leak, 1)}%, clean flagged ${adjusted.flagged}/${adjusted.clean} = ${fmt((100 * adjusted.flagged) / adjusted.clean, 1)}%`,
);
const allFalse = gitleaksFp + slClean;
const allFlagged = gitleaksFpFlaggedSame + slCleanFlagged;
console.log(
  `all false examples flagged (gitleaks fp by the same family + secretlint clean): ${allFlagged}/${allFalse} = ${fmt((100 * allFlagged) / allFalse, 1)}%`,
);

console.log('\nper rule family (gitleaks: found/true, flagged/false [+ by another rule]):');
for (const [family, entry] of [...tally.entries()].sort()) {
  console.log(
    `  ${family.padEnd(34)} ${entry.tp ? `${entry.tpFound}/${entry.tp}` : '-'}\t${entry.fp ? `${entry.fpFlagged}/${entry.fp}${entry.fpOther ? ` [+${entry.fpOther}]` : ''}` : '-'}`,
  );
}
console.log('per rule family (secretlint: leaks found/leaks, clean flagged/clean):');
for (const [family, entry] of [...slFamilies.entries()].sort()) {
  console.log(
    `  ${family.padEnd(34)} ${entry.leak ? `${entry.found}/${entry.leak}` : '-'}\t${entry.clean ? `${entry.flagged}/${entry.clean}` : '-'}`,
  );
}
if (process.env.BENCH_VERBOSE) {
  console.log(`missed gitleaks tp: ${missedTp.join(' ')}`);
  console.log(`missed secretlint leaks: ${slMissed.join(' ')}`);
  console.log(`flagged secretlint clean: ${slFlagged.join(' ')}`);
}
