import { SecretsError } from '../errors.js';
import { canonicalJson, sha256Hex, type CanonicalValue } from './canonical-json.js';

export const REQUEST_FORMAT = 'secrets-change-request/1';

/** One file a planned rotation writes, and its keyed fingerprint when the request was made. */
export interface RequestedFile {
  /** Relative to the deployment root (absolute when outside it). */
  path: string;
  /** HMAC-SHA-256 of the whole file under the deployment's fingerprint key; null: the file did not exist. */
  fingerprint: string | null;
}

/** One secret of the plan, in the words the dry run uses. No value, no derived form of one. */
export interface RequestedSecret {
  id: string;
  kind: string;
  files: RequestedFile[];
  /** What changes inside the files: env keys, "line of user admin". */
  targets: string[];
  hooks: string[];
  create: string;
  test: string;
}

/**
 * A change request: exactly what `secrets rotate --approved` will do, signed by the approvers.
 * Written as canonical JSON (plus one newline), so the signed bytes are the data.
 */
export interface ChangeRequest {
  format: typeof REQUEST_FORMAT;
  deployment: string;
  secrets: RequestedSecret[];
  requester: {
    /** The OS user who made the request (SUDO_USER first). */
    user: string;
    /** Fingerprint of the key the requester signed the request with (--key), or null. */
    key: string | null;
  };
  created: string;
  expires: string;
  ticket: string | null;
  /** Random: two requests for the same plan are two different requests (an approval is used once). */
  nonce: string;
}

export function serializeRequest(request: ChangeRequest): string {
  return `${canonicalJson(request as unknown as CanonicalValue)}\n`;
}

/** The digest printed at request time, shown by approve and recorded in the audit trail. */
export function requestDigest(text: string | Uint8Array): string {
  return `sha256:${sha256Hex(text)}`;
}

const isString = (value: unknown): value is string => typeof value === 'string';
const isStringList = (value: unknown): value is string[] => Array.isArray(value) && value.every(isString);
const isDate = (value: unknown): value is string => isString(value) && !Number.isNaN(Date.parse(value));

function shapeError(where: string, what: string): SecretsError {
  return new SecretsError('request-invalid', `not a change request: ${what}`, {
    where,
    hint: 'make one with secrets rotate ID --request FILE',
  });
}

function checkSecret(value: unknown, index: number, where: string): RequestedSecret {
  const item = value as Partial<RequestedSecret> | null;
  const at = `secrets[${index}]`;
  if (!item || typeof item !== 'object') throw shapeError(where, `${at} is not an object`);
  for (const field of ['id', 'kind', 'create', 'test'] as const)
    if (!isString(item[field])) throw shapeError(where, `${at}.${field} is missing`);
  if (!isStringList(item.targets) || !isStringList(item.hooks) || !Array.isArray(item.files))
    throw shapeError(where, `${at} lacks files, targets or hooks`);
  for (const file of item.files as unknown[]) {
    const entry = file as Partial<RequestedFile> | null;
    if (!entry || !isString(entry.path) || !(entry.fingerprint === null || isString(entry.fingerprint)))
      throw shapeError(where, `${at}.files holds an entry without path and fingerprint`);
  }
  return item as RequestedSecret;
}

/**
 * Reads a change request. It must be byte for byte the canonical form of what it says: a request
 * edited by hand (even re-indented) is refused, since its signatures would no longer be over the
 * plan shown.
 */
export function parseRequest(text: string, where: string): ChangeRequest {
  let data: unknown;
  try {
    data = JSON.parse(text);
  } catch {
    throw shapeError(where, 'not JSON');
  }
  const request = data as Partial<ChangeRequest> | null;
  if (!request || typeof request !== 'object' || Array.isArray(request)) throw shapeError(where, 'not a JSON object');
  if (request.format !== REQUEST_FORMAT) throw shapeError(where, `format is not "${REQUEST_FORMAT}"`);
  if (!isString(request.deployment)) throw shapeError(where, 'deployment is missing');
  if (!Array.isArray(request.secrets) || request.secrets.length === 0) throw shapeError(where, 'no secrets listed');
  request.secrets.forEach((item, index) => checkSecret(item, index, where));
  const requester = request.requester as Partial<ChangeRequest['requester']> | undefined;
  if (!requester || !isString(requester.user) || !(requester.key === null || isString(requester.key)))
    throw shapeError(where, 'requester is missing');
  if (!isDate(request.created) || !isDate(request.expires)) throw shapeError(where, 'created or expires is not a date');
  if (!(request.ticket === null || isString(request.ticket))) throw shapeError(where, 'ticket is not text');
  if (!isString(request.nonce)) throw shapeError(where, 'nonce is missing');
  const parsed = request as ChangeRequest;
  if (serializeRequest(parsed) !== text)
    throw new SecretsError(
      'request-edited',
      'the change request was edited after it was written (not canonical JSON)',
      {
        where,
        hint: 'make a new request with secrets rotate ID --request FILE',
      },
    );
  return parsed;
}

/** The plan in words, for the approver to read before signing. */
export function describeRequest(request: ChangeRequest, digest: string): string {
  const lines = [
    `change request ${digest}`,
    `  deployment: ${request.deployment}`,
    `  requested by ${request.requester.user}${request.requester.key ? ` (key ${request.requester.key.toUpperCase()})` : ''} at ${request.created}`,
    `  valid until ${request.expires}`,
    `  ticket: ${request.ticket ?? 'none'}`,
    `  rotates ${request.secrets.length} secret(s):`,
  ];
  for (const secret of request.secrets) {
    lines.push(`  ${secret.id} (${secret.kind})`);
    lines.push(`    create: ${secret.create}`);
    lines.push(`    test:   ${secret.test}`);
    lines.push(
      secret.files.length > 0
        ? `    swap:   ${secret.files.map((file) => `${file.path}${file.fingerprint === null ? ' (new file)' : ''}`).join(', ')}: ${secret.targets.join(', ')}`
        : '    swap:   no file changes',
    );
    lines.push(`    hooks:  ${secret.hooks.length > 0 ? secret.hooks.join(' → ') : 'none'}`);
  }
  return `${lines.join('\n')}\n`;
}

/**
 * What differs between the request's plan and the plan the current policy makes for the same
 * secrets (files, targets, hooks, kind): an approval covers the plan that was signed, not a
 * policy edited since.
 */
export function planDifferences(request: ChangeRequest, current: RequestedSecret[]): string[] {
  const differences: string[] = [];
  const byId = new Map(current.map((secret) => [secret.id, secret]));
  for (const planned of request.secrets) {
    const now = byId.get(planned.id);
    if (!now) {
      differences.push(`${planned.id} is no longer in the policy`);
      continue;
    }
    if (now.kind !== planned.kind) differences.push(`${planned.id} is now ${now.kind}, not ${planned.kind}`);
    const same = (a: string[], b: string[]) => a.length === b.length && a.every((value, index) => value === b[index]);
    if (
      !same(
        now.files.map((file) => file.path),
        planned.files.map((file) => file.path),
      )
    )
      differences.push(`the files of ${planned.id} changed in the policy`);
    if (!same(now.targets, planned.targets)) differences.push(`what changes in ${planned.id}'s files changed`);
    if (!same(now.hooks, planned.hooks)) differences.push(`the hooks of ${planned.id} changed in the policy`);
  }
  return differences;
}
