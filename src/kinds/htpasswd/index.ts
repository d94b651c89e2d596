/**
 * `kind: htpasswd`: the dashboard's nginx Basic Auth password, one user's line in an htpasswd
 * file (issue 5). Rotation: ./rotate.ts (listed in ../rotations.ts, off check's path: it pulls in bcrypt);
 * the nginx side: ./host.ts.
 */
import { basename } from 'node:path';
import { parseHtpasswd } from '../../core/htpasswd.js';
import { resolveIn } from '../../core/policy.js';
import type { Kind } from '../kind.js';
import { htpasswdFormats } from './compliance.js';
import { planHtpasswdCutOff } from './cut-off.js';
import { htpasswdSchema, type HtpasswdSpec } from './schema.js';

export type { HtpasswdSpec };

export const htpasswdKind: Kind<HtpasswdSpec> = {
  name: 'htpasswd',
  schema: htpasswdSchema,
  envKeys: () => [],
  files: (spec, policy) => [resolveIn(policy.root, spec.file)],
  async managedValues(id, spec, { policy, readTextIfExists }) {
    const text = await readTextIfExists(resolveIn(policy.root, spec.file));
    const line = text?.split(/\r?\n/).find((entry) => entry.startsWith(`${spec.user}:`));
    return line ? [{ id, value: line.trim() }] : [];
  },
  valueHomes: (spec, policy) => [resolveIn(policy.root, spec.file)],
  compliance: {
    parses: {
      files: (spec, policy) => [resolveIn(policy.root, spec.file)],
      parse: (text, path) => parseHtpasswd(text, path),
      missing: (file) => `${file}: missing (the htpasswd file of ${basename(file)})`,
    },
    formats: htpasswdFormats,
  },
  revocation: {
    accessLogUser: (spec) => spec.user,
    cutOff: 'lock the user out (a line no password matches), reload through the hooks, probe',
    replace: (lockOnly) => (lockOnly ? 'not now (--lock-only)' : 'a normal rotation to a new password'),
    askLeakedValue: (spec) =>
      spec.probe ? `Leaked password of ${spec.user}, so the probe proves it stops working (Enter to skip)` : undefined,
    planCutOff: (id, spec, policy, current, options, deps) =>
      planHtpasswdCutOff(id, spec, [resolveIn(policy.root, spec.file)], current, options, deps),
  },
  live: async (id, spec, ctx) => (await import('./live.js')).liveHtpasswd(id, spec, ctx),
};
