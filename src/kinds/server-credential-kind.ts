/**
 * What the Kind objects of postgres and redis share (cheap: on `secrets check`'s start-up path).
 * The connection code is in ./server-credential.ts and each kind's rotate.ts, loaded on use.
 */
import type { Finding } from '../core/checks/types.js';
import { parseConnectionUrl } from '../core/credentials/connection-url.js';
import { MIN_DB_PASSWORD_LENGTH } from '../core/credentials/db-password.js';
import { envValue } from '../core/dotenv.js';
import type { FormatCheckContext } from './kind.js';

/** The URL in .env must parse and carry a password of 32+ characters (else: rotate it). */
export function connectionUrlFindings(
  id: string,
  spec: { url_key: string; length: number },
  schemes: string[],
  ctx: FormatCheckContext,
): Finding[] {
  const value = ctx.env ? envValue(ctx.env, spec.url_key) : undefined;
  if (!value) return [];
  let problem: string | undefined;
  try {
    const url = parseConnectionUrl(value, { schemes, key: spec.url_key });
    if (!url.password || url.password.isEmpty()) problem = `${spec.url_key} holds no password`;
    else if (url.password.length < MIN_DB_PASSWORD_LENGTH)
      problem = `the password in ${spec.url_key} has ${url.password.length} characters; rotate it (secrets rotate ${id}) for ${spec.length}`;
  } catch (error) {
    problem = error instanceof Error ? error.message : String(error);
  }
  return problem
    ? [{ check: 'format', severity: 'critical', secret: id, path: ctx.policy.envFile, message: `${id}: ${problem}` }]
    : [];
}
