import { SecretsError } from './errors.js';

export type HtpasswdScheme = 'bcrypt' | 'apr1' | 'sha1' | 'crypt' | 'plain';

export interface HtpasswdEntry {
  user: string;
  hash: string;
  scheme: HtpasswdScheme;
  /** bcrypt cost, when the scheme is bcrypt. */
  cost?: number;
  /** 1-based line. */
  line: number;
}

export interface HtpasswdDocument {
  text: string;
  entries: HtpasswdEntry[];
  eol: '\n' | '\r\n';
}

const BCRYPT = /^\$2[aby]\$(\d{2})\$[./A-Za-z0-9]{53}$/;
const APR1 = /^\$apr1\$[./A-Za-z0-9]{1,8}\$[./A-Za-z0-9]{22}$/;
const SHA1 = /^\{SHA\}[A-Za-z0-9+/]{27}=$/;
const CRYPT = /^[./A-Za-z0-9]{13}$/;

export function hashScheme(hash: string): { scheme: HtpasswdScheme; cost?: number } {
  const bcrypt = BCRYPT.exec(hash);
  if (bcrypt) return { scheme: 'bcrypt', cost: Number(bcrypt[1]) };
  if (APR1.test(hash)) return { scheme: 'apr1' };
  if (SHA1.test(hash)) return { scheme: 'sha1' };
  if (CRYPT.test(hash)) return { scheme: 'crypt' };
  return { scheme: 'plain' };
}

/**
 * Reads an htpasswd file as Apache and nginx do: `user:hash` per line, `#` comments and blank
 * lines kept. A line without a user and a colon is an error naming file:line.
 */
export function parseHtpasswd(text: string, file: string): HtpasswdDocument {
  const eol = text.includes('\r\n') ? '\r\n' : '\n';
  const entries: HtpasswdEntry[] = [];
  const lines = text.split('\n');
  for (let index = 0; index < lines.length; index++) {
    const raw = lines[index]!.replace(/\r$/, '');
    if (raw.trim() === '' || raw.trimStart().startsWith('#')) continue;
    const colon = raw.indexOf(':');
    if (colon <= 0 || colon === raw.length - 1) {
      throw new SecretsError('htpasswd-syntax', 'expected user:hash', { where: `${file}:${index + 1}` });
    }
    const user = raw.slice(0, colon);
    const hash = raw.slice(colon + 1);
    if (/\s/.test(user)) throw new SecretsError('htpasswd-syntax', 'user names cannot contain spaces', { where: `${file}:${index + 1}` });
    entries.push({ user, hash, ...hashScheme(hash), line: index + 1 });
  }
  return { text, entries, eol };
}
