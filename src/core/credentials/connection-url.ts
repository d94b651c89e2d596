import { SecretsError } from '../errors.js';
import { Secret } from '../secret.js';

/**
 * A connection URL (`postgresql://user:password@host:5432/db`, `redis://:password@host:6379/0`)
 * read for the one purpose of changing its credentials in place: the offsets of the user and
 * password let an edit replace exactly those bytes, so every other byte of the line (host, port,
 * path, query, its spelling and case) stays as it was.
 */
export interface ConnectionUrl {
  text: string;
  scheme: string;
  /** Decoded user name; '' when the URL has none (`redis://:password@host`). */
  user: string;
  password: Secret | undefined;
  host: string;
  port: number | undefined;
  /** The path after the authority without its leading '/', decoded ('' when none). */
  path: string;
  /** Query parameters, decoded (sslmode=require…). */
  params: Record<string, string>;
  /** Where the user-info starts (right after `://`). */
  userinfoStart: number;
  /** Where the user-info ends (the '@'), or undefined when the URL has none. */
  userinfoEnd: number | undefined;
}

export interface ParseUrlOptions {
  schemes: string[];
  /** The place to name in an error (file:line). */
  where?: string;
  /** The env key, for the message. */
  key?: string;
}

function decode(part: string, what: string, options: ParseUrlOptions): string {
  try {
    return decodeURIComponent(part);
  } catch {
    throw unparsable(`its ${what} holds a broken %-escape`, options);
  }
}

function unparsable(reason: string, options: ParseUrlOptions): SecretsError {
  const key = options.key ? `${options.key}: ` : '';
  return new SecretsError('url-unparsable', `${key}cannot read the connection URL: ${reason}; nothing was changed`, {
    ...(options.where ? { where: options.where } : {}),
    hint: `expected ${options.schemes[0]}://user:password@host:port/…`,
  });
}

/** Parses `text`; a URL that does not parse is one line naming the key and place, never the value. */
export function parseConnectionUrl(text: string, options: ParseUrlOptions): ConnectionUrl {
  const schemeMatch = /^([A-Za-z][A-Za-z0-9+.-]*):\/\//.exec(text);
  if (!schemeMatch) throw unparsable('it does not start with scheme://', options);
  const scheme = schemeMatch[1]!.toLowerCase();
  if (!options.schemes.includes(scheme))
    throw unparsable(`the scheme is ${scheme}, expected ${options.schemes.join(' or ')}`, options);
  if (/[\s]/.test(text)) throw unparsable('it holds a space or line break', options);
  const userinfoStart = schemeMatch[0].length;
  let authorityEnd = text.length;
  for (const stop of ['/', '?', '#']) {
    const at = text.indexOf(stop, userinfoStart);
    if (at !== -1 && at < authorityEnd) authorityEnd = at;
  }
  const authority = text.slice(userinfoStart, authorityEnd);
  const at = authority.lastIndexOf('@');
  let user = '';
  let password: Secret | undefined;
  let userinfoEnd: number | undefined;
  let hostPort = authority;
  if (at !== -1) {
    userinfoEnd = userinfoStart + at;
    const userinfo = authority.slice(0, at);
    hostPort = authority.slice(at + 1);
    const colon = userinfo.indexOf(':');
    user = decode(colon === -1 ? userinfo : userinfo.slice(0, colon), 'user', options);
    if (colon !== -1) password = new Secret(decode(userinfo.slice(colon + 1), 'password', options));
  }
  let host: string;
  let portText: string | undefined;
  if (hostPort.startsWith('[')) {
    const close = hostPort.indexOf(']');
    if (close === -1) throw unparsable('an IPv6 host lacks its closing ]', options);
    host = hostPort.slice(1, close);
    const rest = hostPort.slice(close + 1);
    if (rest !== '' && !rest.startsWith(':')) throw unparsable('unexpected text after the host', options);
    portText = rest === '' ? undefined : rest.slice(1);
  } else {
    const colon = hostPort.lastIndexOf(':');
    host = colon === -1 ? hostPort : hostPort.slice(0, colon);
    portText = colon === -1 ? undefined : hostPort.slice(colon + 1);
  }
  if (host === '') throw unparsable('it names no host', options);
  if (/[@/]/.test(host)) throw unparsable('the host is not a host name', options);
  let port: number | undefined;
  if (portText !== undefined && portText !== '') {
    if (!/^\d{1,5}$/.test(portText) || Number(portText) > 65535) throw unparsable('the port is not a number', options);
    port = Number(portText);
  }
  const rest = text.slice(authorityEnd);
  const pathMatch = /^\/([^?#]*)/.exec(rest);
  const path = pathMatch ? decode(pathMatch[1]!, 'path', options) : '';
  const params: Record<string, string> = {};
  const query = /\?([^#]*)/.exec(rest);
  if (query) {
    for (const pair of query[1]!.split('&')) {
      if (pair === '') continue;
      const eq = pair.indexOf('=');
      const name = decode(eq === -1 ? pair : pair.slice(0, eq), 'query', options);
      params[name] = decode(eq === -1 ? '' : pair.slice(eq + 1).replace(/\+/g, ' '), 'query', options);
    }
  }
  if ('password' in params)
    throw unparsable('a password in the query string is not supported (put it in user:password@)', options);
  return { text, scheme, user, password, host, port, path, params, userinfoStart, userinfoEnd };
}

/**
 * The URL with its password (and user, when given) replaced; every other byte as it was. A URL
 * without user-info gets `user:password@` right after `://`.
 */
export function withCredentials(url: ConnectionUrl, credentials: { user?: string; password: Secret }): string {
  const user = encodeURIComponent(credentials.user ?? url.user);
  const password = encodeURIComponent(credentials.password.reveal());
  const userinfo = `${user}:${password}`;
  if (url.userinfoEnd === undefined)
    return `${url.text.slice(0, url.userinfoStart)}${userinfo}@${url.text.slice(url.userinfoStart)}`;
  const current = url.text.slice(url.userinfoStart, url.userinfoEnd);
  // The user keeps its own spelling (its %-escapes) unless it changes.
  const colon = current.indexOf(':');
  const rawUser = colon === -1 ? current : current.slice(0, colon);
  const keptUser = credentials.user === undefined || credentials.user === url.user ? rawUser : user;
  return `${url.text.slice(0, url.userinfoStart)}${keptUser}:${password}${url.text.slice(url.userinfoEnd)}`;
}
