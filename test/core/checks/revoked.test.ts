import { describe, expect, it } from 'vitest';
import type { AuditEntry } from '../../../src/core/audit.js';
import { checkRevocations } from '../../../src/core/checks/revoked.js';

function entries(...actions: Array<[string, string, Record<string, unknown>?]>): AuditEntry[] {
  // Every entry in the same second: only seq can order them.
  return actions.map(([action, secret, details], index) => ({
    seq: index + 1,
    time: '2026-11-24T12:00:00.000Z',
    actor: 'tester',
    prev: '',
    action,
    secret,
    ...(details ? { details } : {}),
  }));
}

const known = new Set(['dashboard', 'risk']);

describe('checkRevocations', () => {
  const cases: Array<[string, AuditEntry[], string[]]> = [
    ['nothing revoked', entries(['rotated', 'dashboard']), []],
    ['revoked, not replaced', entries(['rotated', 'dashboard'], ['revoked', 'dashboard']), ['dashboard']],
    ['revoked, then rotated in the same second', entries(['revoked', 'dashboard'], ['rotated', 'dashboard']), []],
    [
      'revoked, rotated, revoked again',
      entries(['revoked', 'risk'], ['rotated', 'risk'], ['revoked', 'risk']),
      ['risk'],
    ],
    [
      'a rotation of another secret does not count',
      entries(['revoked', 'dashboard'], ['rotated', 'risk']),
      ['dashboard'],
    ],
    ['recorded (rotated by hand) counts as replaced', entries(['revoked', 'dashboard'], ['recorded', 'dashboard']), []],
    ['a secret no longer in the policy is ignored', entries(['revoked', 'gone']), []],
  ];
  it.each(cases)('%s', (_name, trail, expected) => {
    const findings = checkRevocations(trail, known);
    expect(findings.map((finding) => finding.secret)).toEqual(expected);
    for (const finding of findings) expect(finding).toMatchObject({ check: 'revoked', severity: 'critical' });
  });

  it('names the incident and the command that clears it', () => {
    const [finding] = checkRevocations(entries(['revoked', 'risk', { incident: 'INC-7' }]), known);
    expect(finding!.message).toBe(
      'risk was revoked on 2026-11-24, incident INC-7 and not replaced yet: run secrets rotate risk',
    );
  });
});
