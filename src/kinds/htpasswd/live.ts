import type { Finding } from '../../core/checks/types.js';
import { durationMs, parseDuration } from '../../core/duration.js';
import { isSecretsError } from '../../core/errors.js';
import type { LiveCheckContext } from '../kind.js';
import type { HtpasswdSpec } from './schema.js';

/**
 * `secrets check --live` for an htpasswd secret with a probe. Only a hash is kept, so the password
 * cannot be tried: the probe proves the guard is up (a request without a password gets expect_old).
 */
export async function liveHtpasswd(id: string, spec: HtpasswdSpec, ctx: LiveCheckContext): Promise<Finding[]> {
  if (!spec.probe) return [];
  const { url, expect_old: expected, timeout } = spec.probe;
  try {
    const status = await ctx.deps.prober.status(url, undefined, { timeoutMs: durationMs(parseDuration(timeout)!) });
    if (status === expected) return [];
    return [
      {
        check: 'live',
        severity: 'critical',
        secret: id,
        message: `${id}: ${url} answers ${status} without a password, expected ${expected}: Basic Auth is not guarding it`,
      },
    ];
  } catch (error) {
    return [
      {
        check: 'live',
        severity: 'critical',
        secret: id,
        message: `${id}: could not probe ${url} (${isSecretsError(error) ? error.message : String(error)})`,
      },
    ];
  }
}
