import { randomBytes } from 'node:crypto';
import { encodedLength } from '../../core/checks/compliance.js';
import { SecretsError } from '../../core/errors.js';
import type { RandomSpec } from './schema.js';
import { Secret } from '../../core/secret.js';
import { currentEnvValues, planEnvChange } from '../env-values.js';
import type { KindHandler } from '../kind.js';

const ALPHANUMERIC = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789';

/**
 * A random value with at least the entropy of `bytes` random bytes. Alphanumeric draws by
 * rejection (bytes ≥ 248 are dropped) so every character is equally likely.
 */
export function generateRandomValue(bytes: number, encoding: RandomSpec['encoding']): string {
  if (encoding !== 'alphanumeric') return randomBytes(bytes).toString(encoding);
  const length = encodedLength(bytes, 'alphanumeric');
  let out = '';
  while (out.length < length) {
    for (const byte of randomBytes(length * 2)) {
      if (byte < 248 && out.length < length) out += ALPHANUMERIC[byte % 62];
    }
  }
  return out;
}

const CHARSET: Record<RandomSpec['encoding'], RegExp> = {
  hex: /^[0-9a-f]+$/,
  base64: /^[A-Za-z0-9+/]+=*$/,
  base64url: /^[A-Za-z0-9_-]+$/,
  alphanumeric: /^[A-Za-z0-9]+$/,
};

/** `random`: SECRET_KEY, JWT_SECRET_KEY… generated here, tested for shape, swapped in .env. */
export const randomHandler: KindHandler<RandomSpec> = {
  kind: 'random',
  outline: (spec, policy) => ({
    files: [policy.envFile],
    targets: [spec.env_key],
    source: `generated: ${spec.bytes} random bytes, ${spec.encoding}`,
    test: 'length and alphabet; differs from the current value',
  }),
  async create(spec, ctx, current) {
    const value = Secret.known(generateRandomValue(spec.bytes, spec.encoding));
    ctx.say(`generated ${value.length} characters (${spec.bytes} random bytes, ${spec.encoding})`);
    return { next: { [spec.env_key]: value }, previous: currentEnvValues(ctx.policy, current, [spec.env_key]) };
  },
  async test(spec, pending) {
    const value = pending.next[spec.env_key]!;
    const minimum = spec.min_length ?? encodedLength(spec.bytes, spec.encoding);
    if (value.length < minimum || !CHARSET[spec.encoding].test(value.reveal())) {
      throw new SecretsError(
        'random-bad',
        `the generated ${spec.env_key} does not have the expected shape (${minimum}+ ${spec.encoding} characters)`,
      );
    }
    const previous = pending.previous[spec.env_key];
    if (previous && previous.equals(value))
      throw new SecretsError('random-same', `the generated ${spec.env_key} equals the current one`);
    return `${value.length} ${spec.encoding} characters, new`;
  },
  planChanges: (spec, pending, current, ctx) =>
    planEnvChange(ctx.policy, current, { [spec.env_key]: pending.next[spec.env_key]! }),
};
