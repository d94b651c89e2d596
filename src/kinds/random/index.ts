/** `kind: random`: SECRET_KEY, JWT_SECRET_KEY… generated here; the replacement is its own cut-off. Rotation: ./rotate.ts. */
import { encodedLength } from '../../core/checks/compliance.js';
import { recordOnlyCutOff } from '../cut-off.js';
import { scalar } from '../draft-yaml.js';
import { envManagedValues, minLengthFindings } from '../env-values.js';
import type { Kind } from '../kind.js';
import { randomSchema, type RandomSpec } from './schema.js';

export type { RandomSpec };

export const randomKind: Kind<RandomSpec> = {
  name: 'random',
  shareable: true,
  schema: randomSchema,
  envKeys: (spec) => [spec.env_key],
  files: (_spec, policy) => [policy.envFile],
  managedValues: async (id, spec, { env }) => envManagedValues(id, [spec.env_key], env),
  compliance: {
    formats: (id, spec, ctx) =>
      minLengthFindings(id, spec.env_key, spec.min_length ?? encodedLength(spec.bytes, spec.encoding), ctx),
  },
  revocation: {
    cutOff: 'replaced at once',
    replace: () => 'a new value at once, then the hooks',
    noLockOnly: 'is its replacement',
    unchanged: 'replaced at once',
    planCutOff: (_id, spec, policy, current) =>
      recordOnlyCutOff(
        'replace the value at once (the replacement is the cut-off)',
        [policy.envFile],
        [spec.env_key],
        policy,
        current,
      ),
  },
  draft: (proposal, rotateEvery) => [
    `    env_key: ${scalar(proposal.envKey)}`,
    `    bytes: ${proposal.bytes}`,
    `    encoding: ${proposal.encoding}`,
    `    rotate_every: ${scalar(rotateEvery)}`,
    '    after_change: []            # e.g. ["systemctl restart my-app"]: the app reads the key at start',
  ],
};
