import { basename, dirname, isAbsolute, relative, resolve } from 'node:path';
import type { CheckOutcome } from '../core/checks/types.js';
import { parseDotenv } from '../core/dotenv.js';
import { formatDay } from '../core/duration.js';
import { classifyEnv, type SecretProposal } from '../core/env-classifier.js';
import { SecretsError, errnoCode, isSecretsError } from '../core/errors.js';
import { parseHtpasswd } from '../core/htpasswd.js';
import { basicAuthSites, probeUrlFor, type BasicAuthSite } from '../core/nginx-config.js';
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
  /** --dotenv, as typed; default: .env in the root. */
  envFile?: string;
  /** --adopted-on ID=DATE: a date for one secret, over the date for all. */
  adoptedOnById?: Record<string, Date>;
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
  /** Each secret recorded, and the day. */
  recorded: Array<{ id: string; on: Date }>;
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
  /** Its value: a public URL, the probe's first choice. */
  dashboardUrl: string | undefined;
}

async function readEnvProposals(envPath: string, explicit: boolean, deps: Deps): Promise<EnvFindings> {
  let text: string;
  try {
    text = await deps.files.readText(envPath);
  } catch (error) {
    if (errnoCode(error) === 'ENOENT' && !explicit) {
      deps.output.err(
        `secrets: no ${basename(envPath)} in ${dirname(envPath)}; the policy will list no env secrets (pass --dotenv FILE)\n`,
      );
      return { proposals: [], found: false, dashboardUrlKey: undefined, dashboardUrl: undefined };
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
  const dashboard = entries.find((entry) => /DASHBOARD/i.test(entry.key) && /URL/i.test(entry.key));
  return {
    proposals: classifyEnv(entries),
    found: true,
    dashboardUrlKey: dashboard?.key,
    // A public URL, not a secret; one with a password inside is never used as a probe.
    dashboardUrl: dashboard && /^https?:\/\/[^@\s]+$/.test(dashboard.value) ? dashboard.value : undefined,
  };
}

/** User names in an htpasswd file (not secret), for the question and for --htpasswd without a user. */
async function htpasswdUsersOf(path: string, deps: Deps): Promise<string[]> {
  try {
    return parseHtpasswd(await deps.files.readText(path), path).entries.map((entry) => entry.user);
  } catch {
    return [];
  }
}

/** Where nginx.conf usually is; SECRETS_NGINX_CONF points elsewhere (another prefix, a test). */
const DEFAULT_NGINX_CONF = '/etc/nginx/nginx.conf';
const shellQuote = (text: string) => `'${text.replace(/'/g, `'\\''`)}'`;

interface NginxFacts {
  /** The sites guarded by Basic Auth, user files resolved to absolute paths. */
  sites: BasicAuthSite[];
  /** The reload hooks for this host: systemctl where systemd runs, nginx's own signal elsewhere. */
  hooks: string[];
}

/**
 * nginx's configuration as nginx itself reads it (`nginx -T`: every include expanded), or the
 * main file read directly when nginx cannot be run (not installed here, no permission).
 */
async function readNginxFacts(deps: Deps): Promise<NginxFacts> {
  const override = deps.env.SECRETS_NGINX_CONF;
  const confPath = override ?? DEFAULT_NGINX_CONF;
  const confFlag = override ? ` -c ${shellQuote(override)}` : '';
  let text: string | undefined;
  try {
    // Only PATH: no variable of ours (a backup passphrase) reaches the child's environment.
    const env = { PATH: `${deps.env.PATH ?? '/usr/bin:/bin'}:/usr/sbin:/sbin` };
    const result = await deps.runner.run(`nginx -T -q${confFlag}`, { cwd: deps.cwd, timeoutMs: 10_000, env });
    if (result.code === 0) text = result.stdout;
  } catch {
    text = undefined;
  }
  if (text === undefined) text = await deps.files.readText(confPath).catch(() => '');
  const prefix = dirname(confPath);
  const sites = basicAuthSites(text).map((site) => ({ ...site, userFile: resolve(prefix, site.userFile) }));
  const systemd = (await deps.files.stat('/run/systemd/system'))?.isDirectory === true;
  const hooks = override
    ? [`nginx -t -q${confFlag}`, `nginx -s reload${confFlag}`]
    : systemd
      ? ['nginx -t', 'systemctl reload nginx']
      : ['nginx -t', 'nginx -s reload'];
  return { sites, hooks };
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
  dashboardUrl: string | undefined;
  nginx: NginxFacts;
  answers: InitAnswers;
  cwd: string;
  today: Date;
}): PolicyDraft {
  const { root, answers } = input;
  const secrets = input.proposals.filter((proposal) => answers.selected.includes(proposal.id));
  const taken = new Set(secrets.map((secret) => secret.id));
  let htpasswd: PolicyDraft['htpasswd'];
  if (answers.htpasswd) {
    // The name README, --help and the example policies use, so a newcomer's commands work as shown.
    let id = 'dashboard-password';
    for (let n = 2; taken.has(id); n++) id = `dashboard-password-${n}`;
    const file = resolve(input.cwd, answers.htpasswd.file);
    const site = input.nginx.sites.find((candidate) => candidate.userFile === file);
    const probe = site ? probeUrlFor(site, input.dashboardUrl) : input.dashboardUrl;
    htpasswd = {
      id,
      file: pathInPolicy(root, file),
      user: answers.htpasswd.user,
      hooks: input.nginx.hooks,
      ...(probe ? { probe } : {}),
    };
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
 * Without --htpasswd: the one Basic Auth file nginx's own configuration names, when it exists and
 * has exactly one user (or the operator is asked). Several files or users: a note, and nothing guessed.
 */
async function withDiscoveredHtpasswd(input: InitInput, nginx: NginxFacts, deps: Deps): Promise<InitInput> {
  const files = [...new Set(nginx.sites.map((site) => site.userFile))];
  const existing: string[] = [];
  for (const file of files) if (await deps.files.stat(file)) existing.push(file);
  if (existing.length === 0) return input;
  if (existing.length > 1) {
    deps.output.err(
      `secrets: nginx guards sites with ${existing.join(', ')}; pass --htpasswd FILE --htpasswd-user USER to manage one\n`,
    );
    return input;
  }
  const file = existing[0]!;
  const users = await htpasswdUsersOf(file, deps);
  if (users.length !== 1 && !(deps.interactive && !input.yes)) {
    deps.output.err(
      `secrets: nginx's Basic Auth file ${file} has ${users.length} users; pass --htpasswd ${file} --htpasswd-user USER to manage one\n`,
    );
    return input;
  }
  deps.output.err(`secrets: nginx's configuration names the Basic Auth file ${file}; managing it\n`);
  return { ...input, htpasswd: { file, ...(users.length === 1 ? { user: users[0]! } : {}) } };
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
  const { proposals, found, dashboardUrlKey, dashboardUrl } = await readEnvProposals(
    envPath,
    input.envFile !== undefined,
    deps,
  );
  const nginx = await readNginxFacts(deps);
  const flags = input.htpasswd ? input : await withDiscoveredHtpasswd(input, nginx, deps);

  let answers: InitAnswers;
  if (deps.interactive && !input.yes) {
    deps.output.out(describeProposals(proposals, envPath));
    answers = await askInitAnswers(proposals, flags, (file) => htpasswdUsersOf(resolve(deps.cwd, file), deps), deps);
  } else {
    const users = flags.htpasswd ? await htpasswdUsersOf(resolve(deps.cwd, flags.htpasswd.file), deps) : [];
    // One user in the file leaves no doubt whose password rotates.
    answers = answersFromFlags(proposals, flags, flags.htpasswd?.user ?? (users.length === 1 ? users[0] : undefined));
  }
  const byId = input.adoptedOnById ?? {};
  for (const [id, on] of Object.entries(byId))
    if (on.getTime() > deps.clock.now().getTime() + 60_000)
      throw new SecretsError(
        'bad-date',
        `--adopted-on ${id}=${formatDay(on)} is in the future; give the day the current value was set`,
      );
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
    dashboardUrl,
    nginx,
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

  const unknown = Object.keys(byId).filter((id) => !policy.secrets.some((secret) => secret.id === id));
  if (unknown.length > 0) {
    throw new SecretsError(
      'unknown-secret',
      `--adopted-on ${unknown[0]}=…: the policy init drafted has no secret ${unknown[0]}; nothing written`,
      { hint: `its secrets: ${policy.secrets.map((secret) => secret.id).join(', ') || 'none'}` },
    );
  }
  if (policy.secrets.length === 0) {
    // A policy with nothing in it would make every later check say "all well" about nothing.
    throw new SecretsError(
      'init-empty',
      `nothing to manage: no secret recognised in ${envPath}${found ? '' : ' (no such file)'} and no htpasswd file; nothing written`,
      { hint: 'pass --dotenv FILE or --htpasswd FILE, or write the policy by hand (see policies/*.yaml)' },
    );
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
  const recorded: InitOutcome['recorded'] = [];
  await withStateLock(policy.stateDir, { command: 'secrets init', waitMs: DEFAULT_APPEND_WAIT_MS }, deps, async () => {
    await deps.files.ensureDir(dirname(policyPath));
    // 644: the policy holds key names and rules, never values, and cron or another user may read it.
    await deps.files.writeAtomic(policyPath, text, { mode: 0o644 });
    for (const { id } of policy.secrets) {
      const on = byId[id] ?? answers.adoptedOn;
      if (!on) continue;
      await runRecord({ policy, id, on, note: ADOPTION_NOTE }, deps);
      recorded.push({ id, on });
    }
  });
  const check = await runCheck({ policy, now: input.now }, deps);
  return {
    policy,
    proposals,
    managed: policy.secrets.map((secret) => secret.id),
    adoptedOn: answers.adoptedOn,
    recorded,
    envFile: found ? envPath : undefined,
    check,
  };
}
