import { SecretsError } from '../../../core/errors.js';
import type { SecretKind, SecretSpec } from '../../../core/policy-schema.js';
import type { KindHandler } from '../kind-handler.js';
import { dingtalkHandler } from './dingtalk.js';
import { htpasswdHandler } from './htpasswd.js';
import { manualHandler } from './manual.js';
import { postgresHandler } from './postgres.js';
import { randomHandler } from './random.js';
import { redisHandler } from './redis.js';

/**
 * One handler per kind. A new kind implements KindHandler (../kind-handler.ts) in its own file
 * here and adds one line to this table.
 */
const HANDLERS: { [K in SecretKind]?: KindHandler<Extract<SecretSpec, { kind: K }>> } = {
  dingtalk: dingtalkHandler,
  htpasswd: htpasswdHandler,
  random: randomHandler,
  manual: manualHandler,
  postgres: postgresHandler,
  redis: redisHandler,
};

/**
 * A kind this build cannot rotate yet still shows in --dry-run and fails alone (exit 3, nothing
 * changed), so one such secret never blocks the rotation of the others.
 */
function unsupportedHandler(kind: SecretKind): KindHandler<SecretSpec> {
  const refuse = (): never => {
    throw new SecretsError(
      'kind-unsupported',
      `rotating ${kind} secrets is not available in this version; nothing was changed`,
    );
  };
  return {
    kind,
    outline: () => ({ files: [], targets: [], source: `not available in this version (${kind})`, test: 'none' }),
    create: async () => refuse(),
    test: async () => refuse(),
    planChanges: () => refuse(),
  };
}

export function handlerFor(spec: SecretSpec): KindHandler<SecretSpec> {
  const handler = HANDLERS[spec.kind];
  return handler ? (handler as unknown as KindHandler<SecretSpec>) : unsupportedHandler(spec.kind);
}
