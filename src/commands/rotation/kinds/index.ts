import { SecretsError } from '../../../core/errors.js';
import type { SecretKind, SecretSpec } from '../../../core/policy-schema.js';
import type { KindHandler } from '../kind-handler.js';
import { dingtalkHandler } from './dingtalk.js';
import { manualHandler } from './manual.js';
import { randomHandler } from './random.js';

/**
 * One handler per kind. A new kind implements KindHandler (../kind-handler.ts) in its own file
 * here and adds one line to this table.
 */
const HANDLERS: { [K in SecretKind]?: KindHandler<Extract<SecretSpec, { kind: K }>> } = {
  dingtalk: dingtalkHandler,
  random: randomHandler,
  manual: manualHandler,
};

export function handlerFor(spec: SecretSpec): KindHandler<SecretSpec> {
  const handler = HANDLERS[spec.kind];
  if (!handler) throw new SecretsError('kind-unsupported', `rotating ${spec.kind} secrets is not available in this version`);
  return handler as unknown as KindHandler<SecretSpec>;
}
