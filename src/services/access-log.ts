import { gunzipSync } from 'node:zlib';
import { join } from 'node:path';
import { failuresByClient, loginsOf, parseAccessLine, type AccessLine, type LoginSummary } from '../core/access-log.js';
import type { Finding } from '../core/checks/types.js';
import type { Policy } from '../core/policy.js';
import type { HostTree } from '../core/sweep.js';
import type { CheckInput } from './check.js';
import type { Deps } from './deps.js';

/** The state file of the auth-failures check: where it stopped reading, and the 401s of the last day. */
export const ACCESS_LOG_STATE = 'access-log.json';
const DAY_MS = 86_400_000;

interface AccessLogState {
  version: 1;
  path: string;
  ino: number;
  offset: number;
  /** The 401s of the last 24 h (client, user, time): the window outlives any one read. */
  failures: Array<{ client: string; user: string; time: string }>;
}

function parseLines(bytes: Uint8Array): AccessLine[] {
  const lines: AccessLine[] = [];
  for (const text of Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('utf8').split('\n')) {
    const line = parseAccessLine(text);
    if (line) lines.push(line);
  }
  return lines;
}

/**
 * The log's lines back to `since`: the live file, then `.1` and `.2.gz` (logrotate's names)
 * only while the window reaches back beyond what was read.
 */
export async function readLogWindow(path: string, since: Date, host: HostTree): Promise<AccessLine[]> {
  const lines: AccessLine[] = [];
  for (const name of [path, `${path}.1`, `${path}.2.gz`]) {
    const bytes = await host.read(name);
    if (!bytes) continue;
    const parsed = parseLines(name.endsWith('.gz') ? gunzipSync(bytes) : bytes);
    lines.push(...parsed);
    const oldest = parsed[0]?.time;
    if (oldest && oldest <= since) break;
  }
  return lines;
}

/** Who logged in as `user` since `since` (revoke of a dashboard password). */
export async function loginsInWindow(policy: Policy, user: string, since: Date, deps: Deps): Promise<LoginSummary[]> {
  const log = policy.doc.access_log;
  if (!log || !deps.hostTree) return [];
  const lines = await readLogWindow(resolveLog(policy, log.path), since, await deps.hostTree());
  return loginsOf(lines, user, since);
}

function resolveLog(policy: Policy, path: string): string {
  return path.startsWith('/') ? path : join(policy.root, path);
}

/**
 * The `auth-failures` check: 401s per client in the last 24 h. Reads only the tail it has not
 * read (offset and inode in the state folder); after a rotation (a new inode) it finishes the
 * rotated file `.1` from the saved offset, then reads the new one from the start.
 */
export async function checkAuthFailures(input: CheckInput, deps: Deps): Promise<Finding[]> {
  const { policy, now } = input;
  const log = policy.doc.access_log;
  if (!log || !deps.hostTree) return [];
  const host = await deps.hostTree();
  const path = resolveLog(policy, log.path);
  const entry = await host.lstat(path);
  if (!entry)
    return [{ check: 'auth-failures', severity: 'warning', path, message: `the access log ${path} does not exist` }];
  const statePath = join(policy.stateDir, ACCESS_LOG_STATE);
  let state: AccessLogState | undefined;
  try {
    state = JSON.parse(await deps.files.readText(statePath)) as AccessLogState;
    if (state.version !== 1 || state.path !== path) state = undefined;
  } catch {
    state = undefined;
  }
  const fresh: AccessLine[] = [];
  if (state && state.ino !== entry.ino) {
    // Rotated since the last read: the rest of the old file now lives in `.1`.
    const rotated = await host.lstat(`${path}.1`);
    if (rotated && rotated.ino === state.ino) {
      const tail = await host.readFrom(`${path}.1`, state.offset);
      if (tail) fresh.push(...parseLines(tail));
    }
  }
  const offset = state && state.ino === entry.ino && entry.size >= state.offset ? state.offset : 0;
  const tail = await host.readFrom(path, offset);
  if (!tail)
    return [{ check: 'auth-failures', severity: 'warning', path, message: `cannot read the access log ${path}` }];
  // Only whole lines: a line being written stays for the next run.
  const end = tail.lastIndexOf(0x0a) + 1;
  fresh.push(...parseLines(tail.subarray(0, end)));
  const since = new Date(now.getTime() - DAY_MS);
  const failures = [
    ...(state?.failures ?? []),
    ...fresh
      .filter((line) => line.status === 401)
      .map((line) => ({ client: line.client, user: line.user, time: line.time.toISOString() })),
  ].filter((failure) => new Date(failure.time) >= since);
  await deps.files.ensureDir(policy.stateDir, 0o700);
  await deps.files.writeAtomic(
    statePath,
    `${JSON.stringify({ version: 1, path, ino: entry.ino, offset: offset + end, failures } satisfies AccessLogState)}\n`,
    { mode: 0o600 },
  );
  const summary = failuresByClient(
    failures.map((failure) => ({ ...failure, time: new Date(failure.time), status: 401 })),
    since,
  );
  const findings: Finding[] = [];
  for (const client of summary) {
    const brute = client.failures >= log.brute_force_failures || client.users.length >= log.brute_force_users;
    if (!brute && client.failures <= log.failures_warning) continue;
    findings.push({
      check: 'auth-failures',
      severity: brute ? 'critical' : 'warning',
      path,
      message: `${client.client}: ${client.failures} failed logins (401) in the last 24 h${client.users.length > 0 ? `, ${client.users.length} user name(s) tried` : ''}${brute ? ': a brute-force pattern; block the client and check the password was not guessed' : ''}`,
    });
  }
  return findings;
}
