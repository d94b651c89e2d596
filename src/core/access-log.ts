/**
 * The nginx "combined" access log, read for incident response: who logged in with a leaked
 * password, and who is guessing. Pure: lines in, summaries out.
 *
 *   203.0.113.7 - admin [10/Oct/2026:13:55:36 +0000] "GET /dash HTTP/1.1" 200 512 "-" "curl/8"
 */

export interface AccessLine {
  client: string;
  /** The Basic Auth user ("-" when none was sent). */
  user: string;
  time: Date;
  status: number;
}

const LINE = /^(\S+) \S+ (\S+) \[([^\]]+)\] "[^"]*" (\d{3}) /;
const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];

/** `10/Oct/2026:13:55:36 +0000` → Date; undefined when it is not that shape. */
export function parseLogTime(text: string): Date | undefined {
  const match = /^(\d{2})\/(\w{3})\/(\d{4}):(\d{2}):(\d{2}):(\d{2}) ([+-])(\d{2})(\d{2})$/.exec(text);
  if (!match) return undefined;
  const month = MONTHS.indexOf(match[2]!);
  if (month < 0) return undefined;
  const offset = (match[7] === '-' ? -1 : 1) * (Number(match[8]) * 60 + Number(match[9]));
  const utc = Date.UTC(Number(match[3]), month, Number(match[1]), Number(match[4]), Number(match[5]), Number(match[6]));
  return new Date(utc - offset * 60_000);
}

export function parseAccessLine(line: string): AccessLine | undefined {
  const match = LINE.exec(line);
  if (!match) return undefined;
  const time = parseLogTime(match[3]!);
  if (!time) return undefined;
  return { client: match[1]!, user: match[2]!, time, status: Number(match[4]) };
}

export interface LoginSummary {
  client: string;
  first: string;
  last: string;
  requests: number;
}

/** Successful (2xx/3xx) requests of `user` since `since`, per client: the responder's "who used it". */
export function loginsOf(lines: Iterable<AccessLine>, user: string, since: Date): LoginSummary[] {
  const byClient = new Map<string, { first: Date; last: Date; requests: number }>();
  for (const line of lines) {
    if (line.user !== user || line.status >= 400 || line.time < since) continue;
    const known = byClient.get(line.client);
    if (!known) byClient.set(line.client, { first: line.time, last: line.time, requests: 1 });
    else {
      if (line.time < known.first) known.first = line.time;
      if (line.time > known.last) known.last = line.time;
      known.requests++;
    }
  }
  return [...byClient]
    .map(([client, seen]) => ({
      client,
      first: seen.first.toISOString(),
      last: seen.last.toISOString(),
      requests: seen.requests,
    }))
    .sort((a, b) => a.first.localeCompare(b.first));
}

export interface FailureSummary {
  client: string;
  failures: number;
  users: string[];
}

/** 401s per client since `since`, with the user names each tried. */
export function failuresByClient(lines: Iterable<AccessLine>, since: Date): FailureSummary[] {
  const byClient = new Map<string, { failures: number; users: Set<string> }>();
  for (const line of lines) {
    if (line.status !== 401 || line.time < since) continue;
    const known = byClient.get(line.client) ?? { failures: 0, users: new Set<string>() };
    known.failures++;
    if (line.user !== '-') known.users.add(line.user);
    byClient.set(line.client, known);
  }
  return [...byClient]
    .map(([client, seen]) => ({ client, failures: seen.failures, users: [...seen.users].sort() }))
    .sort((a, b) => b.failures - a.failures || a.client.localeCompare(b.client));
}
