import { ExitCode, SecretsError, type ExitCodeValue } from '../core/errors.js';
import type { Clock, FileStore, Output, ProcessRunner } from '../core/ports.js';
import { maskValue } from '../core/secret.js';
import { buildDemoDeployment, type DemoDeployment, type DemoRobotServer } from './demo/demo-deployment.js';

export type { DemoRobot, DemoRobotServer } from './demo/demo-deployment.js';

/** What one `secrets` run of the demo printed and how it ended. */
export interface SecretsRunResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** Runs `secrets ARGS` the way an operator would (the CLI spawns bin/secrets), in `cwd`, with exactly `env`. */
export type SecretsRunner = (
  args: string[],
  options: { cwd: string; env: Record<string, string>; input?: string },
) => Promise<SecretsRunResult>;

export interface DemoDeps {
  files: FileStore;
  runner: ProcessRunner;
  clock: Clock;
  output: Output;
  runSecrets: SecretsRunner;
  /** The local DingTalk-compatible server, started and stopped by the caller. */
  robotServer: DemoRobotServer;
}

export interface DemoInput {
  /** An empty temp folder the caller made and removes; everything the demo writes goes under it. */
  workspace: string;
  /** PATH of the demo's runs (git must be found); nothing else of the caller's environment is passed on. */
  path: string;
  /** Aborted on Ctrl+C: the demo stops before the next run. */
  signal?: AbortSignal;
}

export interface DemoOutcome {
  /** Every step behaved as expected. */
  ok: boolean;
  /** Titles of the steps that did not. */
  surprises: string[];
  root: string;
}

/** One command line of a step and what it should do on this deployment. */
interface DemoCommand {
  args: string[];
  /** The exit codes that mean "this behaved as the explanation says". */
  expect: ExitCodeValue[];
  input?: string;
  /** Further proof the command did its job (returns what is wrong, or undefined). */
  verify?: (result: SecretsRunResult) => string | undefined;
}

interface DemoStep {
  title: string;
  why: string;
  commands: DemoCommand[];
  /** Said after the output, when the exit code needs a word (a check that is expected to fail). */
  after?: string;
}

function steps(deployment: DemoDeployment, server: DemoRobotServer): DemoStep[] {
  const { newRobot } = deployment;
  return [
    {
      title: 'Check the deployment',
      why: 'Cron runs this every day: rotation deadlines, compliance rules, leaks of the current values; quiet when all is well. Nobody has looked after this deployment yet, so it should find problems: secrets never rotated, a plaintext copy of .env someone left behind, and the leaked SECRET_KEY.',
      commands: [
        {
          args: ['check'],
          expect: [ExitCode.critical],
          verify: (result) =>
            result.stdout.includes(deployment.plaintextBackup)
              ? undefined
              : `did not report ${deployment.plaintextBackup}`,
        },
      ],
      after: 'Exit 2 (critical) is what monitoring reads. The next steps fix every line above.',
    },
    {
      title: 'Back up, and encrypt the plaintext copy',
      why: 'Before anything changes, an OpenPGP-encrypted copy of the secret files (gpg --decrypt opens it). The passphrase comes from SECRETS_BACKUP_PASSPHRASE in the environment, never from the command line. Then the plaintext copy is encrypted into a backup and removed.',
      commands: [
        { args: ['backup'], expect: [ExitCode.ok] },
        { args: ['backup', '--adopt', deployment.plaintextBackup], expect: [ExitCode.ok] },
      ],
    },
    {
      title: 'Rotate the DingTalk robot and the JWT secret',
      why: "Only DingTalk's admin page can issue a new robot pair, so the operator hands it in (here on standard input, in .env form). It goes through a signed test send first; .env changes only if the robot answers errcode 0. The JWT secret is generated. Every file is backed up (encrypted) before it is rewritten.",
      commands: [
        {
          args: ['rotate', 'dingtalk', 'jwt-secret'],
          expect: [ExitCode.ok],
          input: `DINGTALK_WEBHOOK_URL=${newRobot.url}\nDINGTALK_SECRET=${newRobot.secret ?? ''}\n`,
          verify: () =>
            server.accepted().some((message) => message.accessToken === newRobot.accessToken)
              ? undefined
              : 'the local DingTalk server accepted no signed message from the new robot',
        },
      ],
    },
    {
      title: 'Scan the whole git history for leaks',
      why: 'The working tree looks clean, but an old commit put SECRET_KEY in a file and a later one took it out: it is still in every clone. The scanner reads every commit of every ref, with its rules for known secret shapes and the exact current value of every managed secret, and says where: file, line, commit, author, date (the value stays redacted).',
      commands: [
        {
          args: ['scan', '--history'],
          expect: [ExitCode.critical],
          verify: (result) =>
            result.stdout.includes(deployment.leakedFile)
              ? undefined
              : `did not find the leak in ${deployment.leakedFile}`,
        },
      ],
      after: 'Exit 2: a secret this policy manages has leaked. Deleting the file did not help; only a new value does.',
    },
    {
      title: 'Revoke the leaked key',
      why: 'Incident response, in one command that never stops to ask (--yes): cut the secret off, replace it, record it, tell the team through the DingTalk robot (never the value), and list every place the old value still sits, with a replacements file for git filter-repo. For a random key, cutting off and replacing are one step: a new value at once. Purging history does not un-leak anything; the new value is the fix.',
      commands: [
        {
          args: [
            'revoke',
            'app-secret-key',
            '--reason',
            'found in git history by secrets scan',
            '--incident',
            'DEMO-1',
            '--yes',
          ],
          // 1: revoked and replaced, and the old value is still in history (the buried commit), which is the point of this demo.
          expect: [ExitCode.warning],
          verify: (result) =>
            !result.stdout.includes(deployment.leakedFile)
              ? `did not show the old value in ${deployment.leakedFile}`
              : !server.accepted().some((message) => message.text.includes('DEMO-1'))
                ? 'the local DingTalk server accepted no team alert for incident DEMO-1'
                : undefined,
        },
      ],
      after:
        'Exit 1: revoked and replaced, but the old value is still in the history shown above; the purge command is printed for when every clone can be re-made.',
    },
    {
      title: 'Check again',
      why: 'The same daily check: every secret now has a recent rotation and no plaintext copy is left, so it prints nothing and exits 0.',
      commands: [{ args: ['check'], expect: [ExitCode.ok] }],
    },
    {
      title: 'Verify the audit trail',
      why: 'Every rotation and backup above left a line in .secrets/audit.jsonl: who, when, which secret, a fingerprint of the new value (never the value). Each line holds the hash of the one before it, so an edited or deleted line is found.',
      commands: [{ args: ['log', '--verify'], expect: [ExitCode.ok] }],
    },
  ];
}

function indent(text: string, prefix: string): string {
  return text
    .replace(/\n+$/, '')
    .split('\n')
    .map((line) => (line === '' ? '' : `${prefix}${line}`))
    .join('\n');
}

/** Wraps prose at about 100 columns under an indent, for a reader on an ordinary terminal. */
function wrap(text: string, prefix: string, width = 100): string {
  const lines: string[] = [];
  let line = '';
  for (const word of text.split(/\s+/)) {
    if (line !== '' && prefix.length + line.length + 1 + word.length > width) {
      lines.push(prefix + line);
      line = word;
    } else line = line === '' ? word : `${line} ${word}`;
  }
  if (line !== '') lines.push(prefix + line);
  return lines.join('\n');
}

/** The commands must mask every value; should one ever slip out, the demo masks it too and calls it a surprise. */
function maskKnownValues(text: string, rawValues: string[]): { text: string; leaked: boolean } {
  let leaked = false;
  for (const value of rawValues) {
    if (text.includes(value)) {
      leaked = true;
      text = text.split(value).join(maskValue(value));
    }
  }
  return { text, leaked };
}

function shellWord(word: string): string {
  return /^[A-Za-z0-9._/=-]+$/.test(word) ? word : `'${word.replace(/'/g, `'\\''`)}'`;
}

type Paint = (text: string) => string;

function palette(color: boolean): { bold: Paint; dim: Paint; green: Paint; red: Paint } {
  const wrapWith = (open: number, close: number) => (text: string) =>
    color ? `\u001b[${open}m${text}\u001b[${close}m` : text;
  return { bold: wrapWith(1, 22), dim: wrapWith(2, 22), green: wrapWith(32, 39), red: wrapWith(31, 39) };
}

/**
 * `secrets demo`: builds a throwaway MT5-CRS-like deployment in `workspace`, then runs the whole
 * cycle on it (check, backup, rotate, scan --history, revoke, check, log --verify), each step explained
 * and its real output shown. Steps that find problems on purpose count as expected.
 */
export async function runDemo(input: DemoInput, deps: DemoDeps): Promise<DemoOutcome> {
  const paint = palette(deps.output.color);
  const say = (text = '') => deps.output.out(`${text}\n`);
  const stopIfInterrupted = () => {
    if (input.signal?.aborted)
      throw new SecretsError('interrupted', 'demo interrupted: nothing outside its temp folder was touched');
  };

  say(paint.bold('secrets demo: the whole cycle on a throwaway deployment'));
  say();
  const deployment = await buildDemoDeployment(input.workspace, deps.robotServer, {
    files: deps.files,
    runner: deps.runner,
    now: deps.clock.now(),
    path: input.path,
  });
  stopIfInterrupted();
  // The dashboard password was set when the deployment went live; the audit trail learns its date like any adopter's would.
  const adopted = new Date(deps.clock.now().getTime() - 20 * 86_400_000).toISOString().slice(0, 10);
  const record = await deps.runSecrets(
    ['record', 'dashboard-password', '--on', adopted, '--note', 'set when the deployment went live'],
    { cwd: deployment.root, env: deployment.env },
  );
  if (record.code !== 0)
    throw new SecretsError('demo-setup', `could not prepare the demo's audit trail: ${record.stderr.trim()}`);

  say(`A deployment like MT5-CRS, built in ${deployment.root}:`);
  say(`  .env           a DingTalk robot pair, JWT_SECRET_KEY, the dashboard's SECRET_KEY (all fake, made just now)`);
  say(
    `  .htpasswd      nginx Basic Auth for the dashboard, user admin (bcrypt), set ${adopted} (recorded with secrets record)`,
  );
  say(`  secrets.yaml   the policy: what each secret is, rotated every 90 days, backups, compliance rules`);
  say(`  git history    3 commits; the 2nd put SECRET_KEY in ${deployment.leakedFile}, the 3rd took it out`);
  say(`  DingTalk       a local DingTalk-compatible robot server on ${deps.robotServer.baseUrl} (signatures checked)`);
  say('Each step runs the real command in that folder, as an operator would type it there.');

  const surprises: string[] = [];
  const all = steps(deployment, deps.robotServer);
  for (const [index, step] of all.entries()) {
    say();
    say(paint.bold(`${index + 1}/${all.length}  ${step.title}`));
    say(wrap(step.why, '    '));
    let surprised: string | undefined;
    for (const command of step.commands) {
      stopIfInterrupted();
      say();
      const prefix = command.input === undefined ? '' : 'printf "DINGTALK_WEBHOOK_URL=…\\nDINGTALK_SECRET=…\\n" | ';
      say(`    ${paint.dim('$')} ${prefix}secrets ${command.args.map(shellWord).join(' ')}`);
      const result = await deps.runSecrets(command.args, {
        cwd: deployment.root,
        env: deployment.env,
        ...(command.input === undefined ? {} : { input: command.input }),
      });
      stopIfInterrupted();
      const shown = maskKnownValues(
        `${result.stdout}${result.stderr === '' ? '' : `\n${result.stderr}`}`,
        deployment.rawValues,
      );
      if (shown.text.trim() !== '') say(indent(shown.text, '      '));
      else say(paint.dim('      (no output: all is well)'));
      const problem = !command.expect.includes(result.code as ExitCodeValue)
        ? `exit ${result.code ?? 'killed'}, expected ${command.expect.join(' or ')}`
        : shown.leaked
          ? 'printed a secret value unmasked'
          : command.verify?.(result);
      if (problem && surprised === undefined) surprised = `secrets ${command.args.join(' ')}: ${problem}`;
    }
    if (surprised !== undefined) {
      surprises.push(`step ${index + 1} (${step.title}): ${surprised}`);
      say(paint.red(`    ✗ unexpected: ${surprised}`));
    } else {
      if (step.after) say(wrap(step.after, '    '));
      say(paint.green('    ✓ as expected'));
    }
  }

  say();
  if (surprises.length === 0)
    say(paint.bold('Every step behaved as expected.') + ' Next: secrets init writes a policy for your own deployment.');
  else {
    say(paint.red(`${surprises.length} step(s) surprised:\n${surprises.map((line) => `  ${line}`).join('\n')}`));
    // Also on stderr, where a script or CI log looks for why the exit code is 3.
    for (const line of surprises) deps.output.err(`secrets: demo: ${line}\n`);
  }
  return { ok: surprises.length === 0, surprises, root: deployment.root };
}
