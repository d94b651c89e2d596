import { describe, expect, it } from 'vitest';
import type { ApproverKey } from '../../../src/core/approval/decision.js';
import type { AuditEntry } from '../../../src/core/audit.js';
import { checkApprovals } from '../../../src/core/checks/approval.js';
import { parseDuration } from '../../../src/core/duration.js';

const now = new Date('2026-11-01T00:00:00Z');

const key = (label: string, extra: Partial<ApproverKey> = {}): ApproverKey => ({
  label,
  file: `keys/${label}.asc`,
  fingerprint: label[0]!.repeat(40),
  keyIds: [],
  userIds: [],
  expires: null,
  revoked: null,
  ...extra,
});

let seq = 0;
const entry = (action: string, secret: string, details?: Record<string, unknown>): AuditEntry => ({
  seq: ++seq,
  time: '2026-10-20T10:00:00.000Z',
  actor: 'ops',
  prev: '',
  action,
  secret,
  ...(details ? { details } : {}),
});

const run = (entries: AuditEntry[], approvers: ApproverKey[] = []) =>
  checkApprovals({
    entries,
    guarded: (id) => id === 'db',
    knownSecrets: new Set(['db', 'jwt']),
    approvers,
    warnBefore: parseDuration('30d')!,
    now,
  });

describe('checkApprovals', () => {
  it('approver keys: revoked and expired are critical, expiring within warn_before a warning, later nothing', () => {
    const findings = run(
      [],
      [
        key('alice', { revoked: new Date('2026-10-01T00:00:00Z') }),
        key('bob', { expires: new Date('2026-10-01T00:00:00Z') }),
        key('chen', { expires: new Date('2026-11-20T00:00:00Z') }),
        key('dana', { expires: new Date('2027-06-01T00:00:00Z') }),
        key('erik'),
      ],
    );
    expect(findings.map((finding) => [finding.severity, finding.message.replace(/\(.*?\)/, '()')])).toEqual([
      [
        'critical',
        'approver key keys/alice.asc () was revoked 2026-10-01: its signatures no longer count; replace it in approval.approvers',
      ],
      [
        'critical',
        'approver key keys/bob.asc () expired 2026-10-01: its signatures no longer count; extend it (gpg --quick-set-expire) and export it again',
      ],
      [
        'warning',
        'approver key keys/chen.asc () expires 2026-11-20: extend it (gpg --quick-set-expire) and export it again',
      ],
    ]);
  });

  it('a pending revocation is critical until an approved-after entry names it', () => {
    seq = 0;
    const revoked = entry('revoked', 'db', { approval: 'pending' });
    expect(run([revoked]).map((finding) => finding.severity)).toEqual(['critical']);
    expect(run([revoked, entry('approved-after', 'db', { revocation: revoked.seq })])).toEqual([]);
    expect(run([revoked, entry('approved-after', 'db', { revocation: revoked.seq + 7 })])).toHaveLength(1);
  });

  it('warns when the last rotation of a guarded secret carried no approval; unguarded and approved ones pass', () => {
    seq = 0;
    const approved = { approval: { request: 'sha256:00', ticket: null, approvers: ['a'.repeat(40)] } };
    expect(run([entry('rotated', 'db')]).map((finding) => finding.message)).toEqual([
      expect.stringMatching(/^db was last rotated on 2026-10-20 \(audit #1\) without an approval/),
    ]);
    expect(run([entry('rotated', 'db'), entry('rotated', 'db', approved)])).toEqual([]);
    expect(run([entry('rotated', 'db', approved), entry('rotated', 'db')])).toHaveLength(1);
    expect(run([entry('rotated', 'db', { revocation: 3 })])).toEqual([]);
    expect(run([entry('rotated', 'jwt')])).toEqual([]);
  });
});
