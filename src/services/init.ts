import { basename, dirname, isAbsolute, relative, resolve } from 'node:path';
import type { CheckOutcome } from '../core/checks/types.js';
import { parseDotenv } from '../core/dotenv.js';
import { formatDay } from '../core/duration.js';
import { classifyEnv, idFromKey, type SecretProposal } from '../core/env-classifier.js';
import { SecretsError, errnoCode, isSecretsError } from '../core/errors.js';
import { parseHtpasswd } from '../core/htpasswd.js';
import type { Policy } from '../core/policy.js';
import { kindNamed, parsePolicy } from '../kinds/index.js';
import { renderPolicyYaml, type PolicyDraft } from '../kinds/policy-draft.js';
import { runCheck } from './check.js';
import type { Deps } from './deps.js';
import { DEFAULT_APPEND_WAIT_MS, withStateLock } from './state/state-lock.js';
import { answersFromFlags, askInitAnswers, type InitAnswers, type InitFlags } from './init/init-answers.js';
import { runRecord } from './record.js';

export interface InitInput extends InitFlags {
  /** Absolute path of the policy file to write (--policy). */
  policyPath: string;
  /** --root, as typed; default: the current folder. */
  root?: string;
  /** --env-file, as typed; default: .env in the root. */
  envFile?: string;
  /** Replace an existing policy file. */
  force: boolean;
  /** Take flags and defaults without asking, even on a terminal. */
  yes: boolean;
  /** When check evaluates deadlines (--as-of, or now). */
  now: Date;
}

export interface InitOutcome {
  policy: Policy;
  /** Every proposal found in the .env, and the ids the policy manages. */
  proposals: SecretProposal[];
  managed: string[];
  /** The date recorded for every managed secret, or undefined when nothing was recorded. */
  adoptedOn: Date | undefined;
  /** The env file read, or undefined when there was none. */
  envFile: string | undefined;
  check: CheckOutcome;
}

const ADOPTION_NOTE = 'adopted by secrets init';

/** A path as the policy holds it: relative to the root when inside it (the policy moves with the deployment), else absolute. */
function pathInPolicy(root: string, absolute: string): string {
  const rel = relative(root, absolute);
  return rel === '' ? '.' : rel.startsWith('..') || isAbsolute(rel) ? absolute : rel;
}

/** A deployment name from the root folder's name (mt5-crs), within the policy's allowed characters. */
function deploymentName(root: string): string {
  const name = basename(root)
    .replace(/[^A-Za-z0-9._-]+/g, '-')
    .replace(/^[^A-Za-z0-9]+/, '');
  return name || 'deployment';
}

interface EnvFindings {
  proposals: SecretProposal[];
  found: boolean;
  /** The key holding the dashboard's public URL, linked from alerts (not a secret). */
  dashboardUrlKey: string | undefined;
}

async function readEnvProposals(envPath: string, explicit: boolean, deps: Deps): Promise<EnvFindings> {
  let text: string;
  try {
    text = await deps.files.readText(envPath);
  } catch (error) {
    if (errnoCode(error) === 'ENOENT' && !explicit) {
      deps.output.err(
        `secrets: no ${basename(envPath)} in ${dirname(envPath)}; the policy will list no env secrets (pass --env-file FILE)\n`,
      );
      return { proposals: [], found: false, dashboardUrlKey: undefined };
    }
    throw new SecretsError(
      'env-missing',
      errnoCode(error) === 'ENOENT'
        ? 'no such env file'
        : `cannot read the env file (${errnoCode(error) ?? String(error)})`,
      { where: envPath },
    );
  }
  // Only keys and the classifier's verdicts leave this function: values stay here.
  const { entries } = parseDotenv(text, envPath);
  const dashboardUrlKey = entries.find((entry) => /DASHBOARD/i.test(entry.key) && /URL/i.test(entry.key))?.key;
  return { proposals: classifyEnv(entries), found: true, dashboardUrlKey };
}

/** User names in an htpasswd file (not secret), for the question and for --htpasswd without a user. */
async function htpasswdUsersOf(path: string, deps: Deps): Promise<string[]> {
  try {
    return parseHtpasswd(await deps.files.readText(path), path).entries.map((entry) => entry.user);
  } catch {
    return [];
  }
}

function describeProposals(proposals: SecretProposal[], envPath: string): string {
  if (proposals.length === 0) return `No secrets recognised in ${envPath}.\n`;
  const width = Math.max(...proposals.map((proposal) => proposal.id.length));
  const lines = proposals.map(
    (proposal) => `  ${proposal.id.padEnd(width)}  ${proposal.kind.padEnd(8)}  ${proposal.reason}`,
  );
  return `Found in ${envPath}:\n${lines.join('\n')}\n`;
}

function buildDraft(input: {
  root: string;
  policyDir: string;
  envPath: string;
  proposals: SecretProposal[];
  dashboardUrlKey: string | undefined;
  answers: InitAnswers;
  cwd: string;
  today: Date;
}): PolicyDraft {
  const { root, answers } = input;
  const secrets = input.proposals.filter((proposal) => answers.selected.includes(proposal.id));
  const taken = new Set(secrets.map((secret) => secret.id));
  let htpasswd: PolicyDraft['htpasswd'];
  if (answers.htpasswd) {
    let id = `basic-auth-${idFromKey(answers.htpasswd.user)}`.slice(0, 64);
    for (let n = 2; taken.has(id); n++) id = `basic-auth-${n}`;
    htpasswd = { id, file: pathInPolicy(root, resolve(input.cwd, answers.htpasswd.file)), user: answers.htpasswd.user };
  }
  // The first robot found receives the alerts.
  const dingtalk = secrets.find((secret) => kindNamed(secret.kind).notifies === true);
  return {
    deployment: deploymentName(root),
    root: pathInPolicy(input.policyDir, root),
    envFile: pathInPolicy(root, input.envPath),
    secrets,
    ...(htpasswd ? { htpasswd } : {}),
    rotateEvery: answers.rotateEvery,
    backup: {
      recipients: answers.recipients.map((file) => pathInPolicy(root, resolve(input.cwd, file))),
      ...(answers.passphraseEnv ? { passphraseEnv: answers.passphraseEnv } : {}),
    },
    ...(dingtalk ? { notifyDingtalk: dingtalk.id } : {}),
    ...(dingtalk && input.dashboardUrlKey ? { dashboardUrlKey: input.dashboardUrlKey } : {}),
    createdOn: formatDay(input.today),
  };
}

/**
 * `secrets init`: read the .env, propose, ask (or take flags), then write the policy, record
 * the adoption date and run check once. Every question and every validation comes before the
 * first write, so a cancel or a bad answer leaves the folder as it was.
 */
export async function runInit(input: InitInput, deps: Deps): Promise<InitOutcome> {
  const policyPath = resolve(deps.cwd, input.policyPath);
  if (!input.force && (await deps.files.stat(policyPath))) {
    throw new SecretsError('policy-exists', 'a policy file is already here; not overwriting it', {
      where: policyPath,
      hint: 'pass --force to replace it, or --policy FILE to write another',
    });
  }
  const root = resolve(deps.cwd, input.root ?? '.');
  const rootStat = await deps.files.stat(root);
  if (!rootStat?.isDirectory)
    throw new SecretsError('root-missing', 'the deployment root is not a folder', {
      where: root,
      hint: 'pass --root DIR',
    });
  const envPath = input.envFile ? resolve(deps.cwd, input.envFile) : resolve(root, '.env');
  const { proposals, found, dashboardUrlKey } = await readEnvProposals(envPath, input.envFile !== undefined, deps);

  let answers: InitAnswers;
  if (deps.interactive && !input.yes) {
    deps.output.out(describeProposals(proposals, envPath));
    answers = await askInitAnswers(proposals, input, (file) => htpasswdUsersOf(resolve(deps.cwd, file), deps), deps);
  } else {
    const users = input.htpasswd ? await htpasswdUsersOf(resolve(deps.cwd, input.htpasswd.file), deps) : [];
    // One user in the file leaves no doubt whose password rotates.
    answers = answersFromFlags(proposals, input, input.htpasswd?.user ?? (users.length === 1 ? users[0] : undefined));
  }
  if (answers.adoptedOn && answers.adoptedOn.getTime() > deps.clock.now().getTime() + 60_000) {
    throw new SecretsError(
      'bad-date',
      `--adopted-on ${formatDay(answers.adoptedOn)} is in the future; give the day the current values were set`,
    );
  }
  for (const file of answers.recipients) {
    if (!(await deps.files.stat(resolve(deps.cwd, file))))
      deps.output.err(`secrets: warning: backup recipient key ${file} does not exist yet; secrets backup needs it\n`);
  }

  const draft = buildDraft({
    root,
    policyDir: dirname(policyPath),
    envPath,
    proposals,
    dashboardUrlKey,
    answers,
    cwd: deps.cwd,
    today: deps.clock.now(),
  });
  const text = renderPolicyYaml(draft);
  let policy: Policy;
  try {
    policy = parsePolicy(text, policyPath);
  } catch (error) {
    // The renderer and the schema disagree: a bug here, and nothing has been written.
    if (isSecretsError(error))
      throw new SecretsError(
        'init-invalid-policy',
        `the policy init drafted does not validate (${error.toLine()}); please report this`,
      );
    throw error;
  }

  if (deps.interactive && !input.yes) {
    const confirmed = await deps.prompts.confirm(
      `Write ${pathInPolicy(deps.cwd, policyPath)} with ${policy.secrets.length} secret(s)${answers.adoptedOn ? ` and record them as rotated on ${formatDay(answers.adoptedOn)}` : ''}?`,
      true,
    );
    if (!confirmed) throw new SecretsError('cancelled', 'nothing written');
  }

  // One transaction, like every change: the policy and the adoption records under the state lock,
  // so an init racing a cron job never interleaves with it.
  await withStateLock(policy.stateDir, { command: 'secrets init', waitMs: DEFAULT_APPEND_WAIT_MS }, deps, async () => {
    await deps.files.ensureDir(dirname(policyPath));
    // 644: the policy holds key names and rules, never values, and cron or another user may read it.
    await deps.files.writeAtomic(policyPath, text, { mode: 0o644 });
    if (answers.adoptedOn) {
      for (const { id } of policy.secrets)
        await runRecord({ policy, id, on: answers.adoptedOn, note: ADOPTION_NOTE }, deps);
    }
  });
  const check = await runCheck({ policy, now: input.now }, deps);
  return {
    policy,
    proposals,
    managed: policy.secrets.map((secret) => secret.id),
    adoptedOn: answers.adoptedOn,
    envFile: found ? envPath : undefined,
    check,
  };
}
