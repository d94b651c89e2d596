/**
 * What `secrets init` needs from nginx's configuration (`nginx -T`, or nginx.conf read directly):
 * each Basic Auth file a server uses, with the server's listen addresses and names, so the policy
 * can name the file and a probe URL that really reaches it. Pure: the caller runs nginx.
 */

export interface BasicAuthSite {
  /** auth_basic_user_file, as written (relative paths resolve against nginx's prefix). */
  userFile: string;
  /** The location it guards ("/" for the server level). */
  location: string;
  /** Each `listen` of the server, as written ("127.0.0.1:8080", "443 ssl"). */
  listen: string[];
  serverNames: string[];
}

/** Words, quoted strings and the three punctuation marks, comments dropped. */
function tokens(text: string): string[] {
  const out: string[] = [];
  const pattern = /#[^\n]*|"((?:\\.|[^"\\])*)"|'((?:\\.|[^'\\])*)'|([{};])|([^\s{};"'#][^\s{};]*)/g;
  for (const match of text.matchAll(pattern)) {
    if (match[0].startsWith('#')) continue;
    out.push(match[1] ?? match[2] ?? match[3] ?? match[4]!);
  }
  return out;
}

interface Block {
  name: string;
  args: string[];
  listen: string[];
  serverNames: string[];
  userFiles: Array<{ file: string; location: string }>;
}

export function basicAuthSites(configText: string): BasicAuthSite[] {
  const sites: BasicAuthSite[] = [];
  const stack: Block[] = [];
  let statement: string[] = [];
  const server = () => [...stack].reverse().find((block) => block.name === 'server');
  const location = () => [...stack].reverse().find((block) => block.name === 'location');
  for (const token of tokens(configText)) {
    if (token === '{') {
      const [name = '', ...args] = statement;
      stack.push({ name, args, listen: [], serverNames: [], userFiles: [] });
      statement = [];
    } else if (token === '}') {
      const block = stack.pop();
      statement = [];
      if (block?.name === 'server')
        for (const { file, location: where } of block.userFiles)
          sites.push({ userFile: file, location: where, listen: block.listen, serverNames: block.serverNames });
    } else if (token === ';') {
      const [name, ...args] = statement;
      statement = [];
      const current = server();
      if (!current) continue;
      if (name === 'listen') current.listen.push(args.join(' '));
      else if (name === 'server_name') current.serverNames.push(...args);
      else if (name === 'auth_basic_user_file' && args[0]) {
        const guarded = location();
        // `location = /x`, `location ^~ /x`: the path is the last argument.
        current.userFiles.push({ file: args[0], location: guarded ? guarded.args[guarded.args.length - 1]! : '/' });
      }
    } else statement.push(token);
  }
  return sites;
}

/**
 * A URL that reaches the guarded location from this host: DASHBOARD_PUBLIC_URL when the .env has
 * one; otherwise built from the first usable `listen` (its address when it names one, else the
 * first plain server_name, else 127.0.0.1) and the location. undefined when nothing fits (a unix
 * socket, a regex location).
 */
export function probeUrlFor(site: BasicAuthSite, dashboardUrl?: string): string | undefined {
  if (dashboardUrl && /^https?:\/\//.test(dashboardUrl)) return dashboardUrl;
  const listen =
    site.listen.find((value) => !value.startsWith('unix:')) ?? (site.listen.length === 0 ? '80' : undefined);
  if (listen === undefined) return undefined;
  const [address = '80', ...flags] = listen.split(/\s+/);
  const ssl = flags.includes('ssl');
  const hostPort = /^(\[[^\]]+\]|[^:]+):(\d+)$/.exec(address);
  const port = hostPort ? hostPort[2]! : /^\d+$/.test(address) ? address : ssl ? '443' : '80';
  const listenHost = hostPort ? hostPort[1]! : /^\d+$/.test(address) ? undefined : address;
  const name = site.serverNames.find((candidate) => /^[A-Za-z0-9.-]+$/.test(candidate) && candidate !== '_');
  const specific = listenHost && !['*', '0.0.0.0', '[::]'].includes(listenHost) ? listenHost : undefined;
  const host = specific ?? name ?? '127.0.0.1';
  const scheme = ssl ? 'https' : 'http';
  const defaultPort = ssl ? '443' : '80';
  const path = site.location.startsWith('/') ? site.location : undefined;
  if (path === undefined) return undefined;
  return `${scheme}://${host}${port === defaultPort ? '' : `:${port}`}${path}`;
}
