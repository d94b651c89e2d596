/**
 * The rotation handlers, one line a kind. They are listed apart from the registry (./index.ts)
 * because `secrets check` loads the registry at every start and must not load them: a handler
 * brings bcryptjs and code `check` never runs, and each module more on that path costs start-up
 * time (bench/check.bench.mjs; a handler loaded from its kind on demand split the bundle into
 * more chunk files, each loaded apart). Only
 * the rotation engine imports this file (services/rotate.ts and services/rotation/, themselves
 * loaded on demand). test/kinds/registry.test.ts fails when a kind of KINDS has no line here.
 */
import { SecretsError } from '../core/errors.js';
import type { SecretSpec } from '../core/policy-schema.js';
import { dingtalkHandler } from './dingtalk/rotate.js';
import { htpasswdHandler } from './htpasswd/rotate.js';
import type { KindHandler } from './kind.js';
import { manualHandler } from './manual/rotate.js';
import { postgresHandler } from './postgres/rotate.js';
import { randomHandler } from './random/rotate.js';
import { redisHandler } from './redis/rotate.js';

/** kind name → its handler (a KindHandler of its own spec type, seen through SecretSpec here). */
export const HANDLERS: Readonly<Record<string, KindHandler>> = {
  htpasswd: htpasswdHandler as unknown as KindHandler,
  dingtalk: dingtalkHandler as unknown as KindHandler,
  random: randomHandler as unknown as KindHandler,
  manual: manualHandler as unknown as KindHandler,
  postgres: postgresHandler as unknown as KindHandler,
  redis: redisHandler as unknown as KindHandler,
};

/**
 * A kind this build cannot rotate yet still shows in --dry-run and fails alone (exit 3, nothing
 * changed), so one such secret never blocks the rotation of the others.
 */
function unsupportedHandler(kind: string): KindHandler {
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

/** The rotation handler of a secret's kind. */
export function handlerFor(spec: SecretSpec): KindHandler {
  return HANDLERS[spec.kind] ?? unsupportedHandler(spec.kind);
}
