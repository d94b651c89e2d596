import { userInfo } from 'node:os';
import { dirname } from 'node:path';
import type { Command } from 'commander';
import { systemClock } from '../adapters/clock.js';
import { nodeFileStore } from '../adapters/files.js';
import { gitInfo } from '../adapters/git-info.js';
import { httpProber } from '../adapters/http-prober.js';
import { fileLocker } from '../adapters/lock.js';
import { rawEnvBytes } from '../adapters/raw-env.js';
import { shellRunner } from '../adapters/process.js';
import { terminalPrompter } from '../adapters/prompts.js';
import type { Deps } from '../services/deps.js';
import { findPolicyPath, loadPolicy } from '../services/policy/load-policy.js';
import { parseDate } from '../core/duration.js';
import { SecretsError, type ExitCodeValue } from '../core/errors.js';
import type { Policy } from '../core/policy.js';
import type { DingtalkTransport, PostgresClient, RedisClient } from '../core/ports.js';
import { maskRemembered } from '../core/secret.js';
import { envKeysOfSecret } from '../kinds/index.js';
import type { CrashPoint } from '../core/rotation/journal.js';

export interface GlobalOptions {
  policy?: string;
  json?: boolean;
  color?: boolean;
  asOf?: string;
  quiet?: boolean;
}

/** What every command action shares: the exit code it reports to main, and the real adapters. */
export class CliContext {
  exitCode: ExitCodeValue = 0;
  /**
   * With --json, stdout is held here until the command ends, so that src/cli/main.ts prints
   * exactly one JSON document: the command's on success, the same with an `error` field (or the
   * error alone) on failure. Undefined without --json.
   */
  jsonOut: string | undefined;

  /** A copy: the commands read the environment from here, while the process's own is scrubbed (see policy()). */
  readonly env: NodeJS.ProcessEnv;

  constructor(env: NodeJS.ProcessEnv = process.env) {
    this.env = { ...env };
  }

  /** Keeps the worst exit code reported so far. */
  report(code: ExitCodeValue): void {
    if (code > this.exitCode) this.exitCode = code;
  }

  globals(command: Command): GlobalOptions {
    return command.optsWithGlobals<GlobalOptions>();
  }

  deps(command: Command): Deps {
    const globals = this.globals(command);
    const isTTY = Boolean(process.stdout.isTTY);
    if (globals.json) this.jsonOut ??= '';
    const color = isTTY && globals.color !== false && this.env.NO_COLOR === undefined;
    return {
      files: nodeFileStore,
      clock: systemClock,
      locker: fileLocker,
      runner: shellRunner,
      git: gitInfo,
      prompts: terminalPrompter,
      output: {
        // Every line printed passes the mask of the values this process has seen as secrets.
        out: (text) => {
          if (globals.json) this.jsonOut = (this.jsonOut ?? '') + text;
          else if (!globals.quiet) process.stdout.write(maskRemembered(text));
        },
        err: (text) => process.stderr.write(maskRemembered(text)),
        isTTY: Boolean(process.stderr.isTTY),
        color,
      },
      env: this.env,
      rawEnv: rawEnvBytes,
      actor: actorName(this.env),
      cwd: process.cwd(),
      interactive: Boolean(process.stdin.isTTY && process.stdout.isTTY),
      readStdin,
      dingtalk: lazyDingtalkTransport,
      ...(this.env.SECRETS_TEST_CRASH_AT ? { onRotationStep: crashAtStep(this.env.SECRETS_TEST_CRASH_AT) } : {}),
      prober: httpProber,
      // A dynamic import, so that `secrets check` never loads openpgp (it must start fast).
      loadPgp: async () => (await import('../adapters/openpgp.js')).openPgp,
      postgres: lazyPostgres,
      redis: lazyRedis,
      scanSources: async () => {
        const sources = (await import('../adapters/scan-sources.js')).createScanSources();
        // The daily check and the pre-commit hook (scan --staged) keep plain git processes: loading
        // simple-git would cost them about one node start-up on every run (adapters/git-lookups.ts).
        const hotPath = command.name() === 'check' || (command.name() === 'scan' && command.opts().staged === true);
        return hotPath ? sources : (await import('../adapters/git-lookups.js')).withGitLookups(sources);
      },
      hostTree: async () => (await import('../adapters/host-tree.js')).createHostTree(),
      openFleetKv: async (connection) => (await import('../adapters/etcd.js')).openEtcd(connection),
    };
  }

  async policy(command: Command, deps: Deps): Promise<Policy> {
    const found = await findPolicyPath(this.globals(command).policy, deps);
    if (!found.found) {
      const upTo =
        found.searchedUpTo && found.searchedUpTo !== deps.cwd
          ? `; the parent folders up to ${found.searchedUpTo} have none either`
          : '';
      throw new SecretsError('policy-missing', 'no policy file here', {
        where: found.path,
        hint: `pass --policy FILE, set SECRETS_POLICY, or create one with \`secrets init\`${upTo}`,
      });
    }
    if (dirname(found.path) !== deps.cwd && this.globals(command).policy === undefined && !deps.env.SECRETS_POLICY)
      deps.output.err(`secrets: using the policy ${found.path}\n`);
    const policy = await loadPolicy(found.path, deps);
    scrubProcessEnv(policy);
    return policy;
  }

  /** --as-of DATE, or now. */
  asOf(command: Command, deps: Deps): Date {
    const text = this.globals(command).asOf;
    if (text === undefined) return deps.clock.now();
    const date = parseDate(text);
    if (!date) throw new SecretsError('bad-date', `--as-of: expected a date like 2026-04-01, got "${text}"`);
    return date;
  }
}

/** The HTTP client (undici) is loaded on the first DingTalk send only. */
const lazyDingtalkTransport: DingtalkTransport = {
  async postJson(url, body, options) {
    const { undiciDingtalkTransport } = await import('../adapters/dingtalk.js');
    return undiciDingtalkTransport.postJson(url, body, options);
  },
  pause: (ms) => new Promise((resolve) => setTimeout(resolve, ms)),
};

/** node-postgres and ioredis are loaded on the first connection only: `secrets check` never pays for them. */
const lazyPostgres: PostgresClient = {
  connect: async (target) => (await import('../adapters/postgres.js')).nodePostgres.connect(target),
};
const lazyRedis: RedisClient = {
  connect: async (target) => (await import('../adapters/redis.js')).ioRedis.connect(target),
};

/**
 * Test-only: SECRETS_TEST_CRASH_AT=<step> kills this process with SIGKILL when a rotation
 * reaches that step, so the crash tests can show that the next run recovers from every step.
 */
function crashAtStep(target: string): (step: CrashPoint) => void {
  return (step) => {
    if (step === target) process.kill(process.pid, 'SIGKILL');
  };
}

function actorName(env: NodeJS.ProcessEnv): string {
  const sudo = env.SUDO_USER;
  let user: string;
  try {
    user = userInfo().username;
  } catch {
    user = env.USER ?? 'unknown';
  }
  return sudo && sudo !== user ? `${sudo} (as ${user})` : user;
}

async function readStdin(): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of process.stdin) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString('utf8');
}

/**
 * Every child this process starts without an explicit environment (git for check and scan, the
 * openpgp-free helpers) inherits process.env: the backup passphrases and every key the policy
 * manages are removed from it once the policy is known. Commands keep reading them from the
 * context's copy. Hooks get their own filtered environment (services/rotation/hooks.ts).
 */
function scrubProcessEnv(policy: Policy): void {
  const keys = [policy.doc.backup.passphrase_env, policy.doc.backup.key_passphrase_env];
  for (const { spec } of policy.secrets) keys.push(...envKeysOfSecret(spec));
  for (const key of keys) if (key) delete process.env[key];
}
