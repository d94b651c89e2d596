/**
 * `kind: manual`: a secret only a person can change (a provider's console). Tracked for its
 * deadline; rotate and revoke print its steps and record what the operator confirms. Rotation: ./rotate.ts.
 */
import { durationMs, parseDuration } from '../../core/duration.js';
import type { ManualCategory } from '../../core/env-classifier.js';
import { recordOnlyCutOff } from '../cut-off.js';
import { scalar } from '../draft-yaml.js';
import { envManagedValues, minLengthFindings } from '../env-values.js';
import type { Kind } from '../kind.js';
import { manualSchema, type ManualSpec } from './schema.js';

export type { ManualSpec };

/** What an operator does by hand for each kind of tracked secret; printed by rotate and revoke. */
const MANUAL_STEPS: Record<ManualCategory, (key: string) => string[]> = {
  'api-key': (key) => [
    `create a new key in the provider's console, put it into ${key} through secrets rotate (stdin), then revoke the old key`,
  ],
  'wallet-key': (key) => [`move what the wallet holds to a new wallet, then replace ${key}`],
  password: (key) => [
    `change the password in the service that checks it, then update ${key} through secrets rotate (stdin) and restart the app`,
  ],
  'credential-url': (key) => [
    `change the password in the service the URL points at, then put the new URL into ${key} through secrets rotate (stdin)`,
  ],
  'dingtalk-secret': (key) => [
    `DingTalk group → Settings → Smart Group Assistant → the robot → Reset; put the new secret into ${key}`,
  ],
  'unknown-shape': (key) => [`replace ${key} the way the service that uses it requires`],
};

/** A wallet key rotates at least a year apart: each rotation moves what the wallet holds. */
export const WALLET_INTERVAL = '1y';

function walletInterval(rotateEvery: string): string {
  const asked = parseDuration(rotateEvery);
  const wallet = parseDuration(WALLET_INTERVAL)!;
  return asked && durationMs(asked) > durationMs(wallet) ? rotateEvery : WALLET_INTERVAL;
}

const keysOf = (spec: ManualSpec): string[] => (spec.env_key ? [spec.env_key] : []);

export const manualKind: Kind<ManualSpec> = {
  name: 'manual',
  shareable: true,
  schema: manualSchema,
  envKeys: keysOf,
  files: (spec, policy) => (spec.env_key === undefined ? [] : [policy.envFile]),
  byHand: true,
  managedValues: async (id, spec, { env }) => envManagedValues(id, keysOf(spec), env),
  compliance: {
    formats: (id, spec, ctx) => (spec.env_key ? minLengthFindings(id, spec.env_key, spec.min_length, ctx) : []),
  },
  revocation: {
    cutOff: 'recorded only',
    replace: () => "by hand: the policy's steps are printed",
    noLockOnly: 'is done by hand',
    unchanged: 'recorded; cut off by hand',
    stepsIntro: 'do these steps by hand:',
    noReplacement: async (id) => `${id} is replaced by hand: do the steps, then record it with secrets rotate ${id}`,
    planCutOff: (_id, spec, policy, current) =>
      recordOnlyCutOff(
        'recorded; the cut-off is done by hand',
        keysOf(spec).length > 0 ? [policy.envFile] : [],
        keysOf(spec),
        policy,
        current,
      ),
  },
  draft(proposal, rotateEvery) {
    const lines = [`    env_key: ${scalar(proposal.envKey)}`];
    if (proposal.minLength !== undefined) lines.push(`    min_length: ${proposal.minLength}`);
    lines.push(
      proposal.category === 'wallet-key'
        ? `    rotate_every: ${scalar(walletInterval(rotateEvery))}              # moving funds is costly: yearly unless it leaks`
        : `    rotate_every: ${scalar(rotateEvery)}`,
    );
    lines.push('    steps:');
    for (const step of MANUAL_STEPS[proposal.category](proposal.envKey)) lines.push(`      - ${scalar(step)}`);
    return lines;
  },
};
