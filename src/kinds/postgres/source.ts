/**
 * Where the postgres kind finds the credential in .env: one URL (url_key), or split keys for apps
 * that read host, port, user, password and database from separate variables (password_key…).
 * Both become the same ConnectionUrl description, so connecting, testing, recovery and the live
 * check run the URL code path; only the write differs: split keys change the password key's
 * value alone (and the user key's under strategy alternating), never another byte of .env.
 */
import type { ConnectionUrl } from '../../core/credentials/connection-url.js';
import { parseDotenv } from '../../core/dotenv.js';
import { SecretsError } from '../../core/errors.js';
import type { Policy } from '../../core/policy.js';
import { Secret } from '../../core/secret.js';
import type { CurrentFiles } from '../kind.js';
import { urlSource, type CredentialSource, type EnvUrl } from '../server-credential.js';
import { POSTGRES_SCHEMES } from './index.js';
import type { PostgresSpec } from './schema.js';

export const DEFAULT_URL_KEY = 'DATABASE_URL';
export const SPLIT_DEFAULTS = { host: 'localhost', port: 5432 };

export function postgresSource(spec: PostgresSpec): CredentialSource {
  const passwordKey = spec.password_key;
  if (passwordKey === undefined) return urlSource(spec.url_key ?? DEFAULT_URL_KEY, POSTGRES_SCHEMES);
  const userKey = spec.user_key!;
  const alternating = spec.strategy === 'alternating';
  return {
    label: passwordKey,
    read: (policy, current) => readSplit(spec, passwordKey, userKey, policy, current),
    values: (_url, next) => ({
      [passwordKey]: next.password,
      ...(alternating ? { [userKey]: new Secret(next.user) } : {}),
    }),
    previous: (url) => ({
      [passwordKey]: url.password,
      ...(alternating ? { [userKey]: new Secret(url.user) } : {}),
    }),
  };
}

function readSplit(
  spec: PostgresSpec,
  passwordKey: string,
  userKey: string,
  policy: Policy,
  current: CurrentFiles,
): EnvUrl {
  const text = current.get(policy.envFile);
  if (text === undefined)
    throw new SecretsError('env-missing', `the env file does not exist; nothing was changed`, {
      where: policy.envFile,
    });
  const doc = parseDotenv(text, policy.envFile);
  /** The last assignment of `key` wins, as for a shell or dotenv loader. */
  const entry = (key: string) => [...doc.entries].reverse().find((candidate) => candidate.key === key);
  const required = (key: string) => {
    const found = entry(key);
    if (!found || found.value === '')
      throw new SecretsError('env-key-missing', `${key} is not set in the env file; nothing was changed`, {
        where: policy.envFile,
        hint: `add ${key}=… to it, or change the policy's ${keyField(spec, key)}`,
      });
    return found;
  };
  const password = required(passwordKey);
  const user = required(userKey).value;
  const host = spec.host_key ? required(spec.host_key).value : SPLIT_DEFAULTS.host;
  let port = SPLIT_DEFAULTS.port;
  if (spec.port_key) {
    const found = required(spec.port_key);
    port = Number(found.value);
    if (!/^\d{1,5}$/.test(found.value) || port < 1 || port > 65535)
      throw new SecretsError(
        'pg-port-invalid',
        `${spec.port_key}: the port is not a number from 1 to 65535; nothing was changed`,
        { where: `${policy.envFile}:${found.line}` },
      );
  }
  const database = spec.dbname_key ? required(spec.dbname_key).value : user;
  const enc = encodeURIComponent;
  const authority = `${enc(user)}:${enc(password.value)}`;
  const url: ConnectionUrl = {
    // A description for the connection code, never written anywhere: the write goes to the keys.
    text: `postgresql://${authority}@${host.includes(':') ? `[${host}]` : host}:${port}/${enc(database)}`,
    scheme: 'postgresql',
    user,
    password: new Secret(password.value),
    host,
    port,
    path: database,
    params: {},
    userinfoStart: 'postgresql://'.length,
    userinfoEnd: 'postgresql://'.length + authority.length,
  };
  return { url, where: `${policy.envFile}:${password.line}` };
}

function keyField(spec: PostgresSpec, key: string): string {
  for (const field of ['password_key', 'user_key', 'host_key', 'port_key', 'dbname_key'] as const)
    if (spec[field] === key) return field;
  return 'keys';
}
