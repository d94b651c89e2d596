import { fixedClock } from '../../src/adapters/clock.js';
import { nodeFileStore } from '../../src/adapters/files.js';
import { gitInfo } from '../../src/adapters/git-info.js';
import { httpProber } from '../../src/adapters/http-prober.js';
import { fileLocker } from '../../src/adapters/lock.js';
import { undiciDingtalkTransport } from '../../src/adapters/dingtalk.js';
import { shellRunner } from '../../src/adapters/process.js';
import { nodePostgres } from '../../src/adapters/postgres.js';
import { ioRedis } from '../../src/adapters/redis.js';
import type { Deps, Prompter } from '../../src/services/deps.js';

export interface CapturedOutput {
  stdout: string[];
  stderr: string[];
}

/** Scripted answers for prompts, taken in order; running out fails the test. */
export function scriptedPrompts(answers: Array<string | boolean | string[]> = []): Prompter {
  const next = (kind: string) => {
    if (answers.length === 0) throw new Error(`unexpected ${kind} prompt`);
    return answers.shift()!;
  };
  return {
    password: async () => String(next('password')),
    confirm: async () => Boolean(next('confirm')),
    input: async () => String(next('input')),
    checkbox: async () => {
      const answer = next('checkbox');
      if (!Array.isArray(answer)) throw new Error('a checkbox prompt needs a list of values as its scripted answer');
      return answer;
    },
  };
}

/**
 * Real adapters (files, git, locks, processes) with the only fakes the tests allow (CONTRIBUTING.md):
 * a fixed clock, scripted prompts, captured output and no wait after DingTalk's rate limit.
 */
export function testDeps(
  overrides: Partial<Deps> & { now?: Date; stdin?: string } = {},
): Deps & { captured: CapturedOutput } {
  const captured: CapturedOutput = { stdout: [], stderr: [] };
  const { now, stdin, ...rest } = overrides;
  return {
    files: nodeFileStore,
    clock: fixedClock(now ?? new Date('2026-11-24T12:00:00Z')),
    locker: fileLocker,
    runner: shellRunner,
    git: gitInfo,
    prompts: scriptedPrompts(),
    output: {
      out: (text) => captured.stdout.push(text),
      err: (text) => captured.stderr.push(text),
      isTTY: false,
      color: false,
    },
    env: {},
    actor: 'tester',
    cwd: process.cwd(),
    interactive: false,
    readStdin: async () => stdin ?? '',
    // Real HTTP (point robots at test/helpers/dingtalk-server.ts); the rate-limit wait is cut short.
    dingtalk: { postJson: undiciDingtalkTransport.postJson, pause: async () => undefined },
    prober: httpProber,
    loadPgp: async () => (await import('../../src/adapters/openpgp.js')).openPgp,
    postgres: nodePostgres,
    redis: ioRedis,
    ...rest,
    captured,
  };
}
