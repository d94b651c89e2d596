import { describe, expect, it } from 'vitest';
import { decideApproval, type ApprovalFacts, type ApproverKey } from '../../../src/core/approval/decision.js';
import {
  REQUEST_FORMAT,
  parseRequest,
  serializeRequest,
  type ChangeRequest,
} from '../../../src/core/approval/request.js';

const now = new Date('2026-11-01T12:00:00Z');

function key(label: string, byte: string, extra: Partial<ApproverKey> = {}): ApproverKey {
  const fingerprint = byte.repeat(40);
  return {
    label,
    file: `keys/${label}.asc`,
    fingerprint,
    keyIds: [fingerprint.slice(-16)],
    userIds: [`${label[0]!.toUpperCase()}${label.slice(1)} <${label}@example.org>`],
    expires: null,
    revoked: null,
    ...extra,
  };
}

const alice = key('alice', 'a');
const bob = key('bob', 'b');
const chen = key('chen', 'c');

const request: ChangeRequest = {
  format: REQUEST_FORMAT,
  deployment: 'mt5-crs',
  secrets: [
    {
      id: 'db',
      kind: 'random',
      files: [{ path: '.env', fingerprint: 'hmac-sha256:00' }],
      targets: ['DB_PASSWORD'],
      hooks: [],
      create: 'generated',
      test: 'format',
    },
  ],
  requester: { user: 'alice', key: null },
  created: '2026-11-01T10:00:00.000Z',
  expires: '2026-11-02T10:00:00.000Z',
  ticket: 'CHG-1',
  nonce: '00',
};

const signed = (who: ApproverKey, valid = true) => ({
  file: `r.${who.label}.sig`,
  status: 'read' as const,
  issuerKeyId: who.keyIds[0]!,
  created: new Date('2026-11-01T11:00:00Z'),
  valid,
});

function facts(extra: Partial<ApprovalFacts>): ApprovalFacts {
  return {
    request,
    now,
    rule: { required: 2, selfApproval: false },
    approvers: [alice, bob, chen],
    signatures: [],
    changedFiles: [],
    planDifferences: [],
    deployment: 'mt5-crs',
    ...extra,
  };
}

describe('decideApproval', () => {
  it('two distinct valid approvers other than the requester: approved, in signature order', () => {
    const decision = decideApproval(facts({ signatures: [signed(chen), signed(bob)] }));
    expect(decision.approved).toBe(true);
    expect(decision.counted.map((k) => k.label)).toEqual(['chen', 'bob']);
  });

  it.each([
    ['one signature', [signed(bob)], {}, '1 of 2 signatures; no other signature found beside the request'],
    [
      'the same approver twice',
      [signed(bob), signed(bob)],
      {},
      '1 of 2 signatures; bob signed more than once (counted once)',
    ],
    [
      'the requester (by OS user)',
      [signed(alice), signed(bob)],
      {},
      '1 of 2 signatures; alice made the request and cannot approve it (self_approval: false)',
    ],
    [
      'an expired key',
      [signed(bob), signed(key('chen', 'c', { expires: new Date('2026-10-01T00:00:00Z') }))],
      { approvers: [alice, bob, key('chen', 'c', { expires: new Date('2026-10-01T00:00:00Z') })] },
      "1 of 2 signatures; chen's key expired 2026-10-01",
    ],
    [
      'a revoked key',
      [signed(bob), signed(chen)],
      { approvers: [alice, bob, key('chen', 'c', { revoked: new Date('2026-10-05T00:00:00Z') })] },
      "1 of 2 signatures; chen's key was revoked 2026-10-05",
    ],
    [
      'a bad signature',
      [signed(bob), signed(chen, false)],
      {},
      "1 of 2 signatures; chen's signature r.chen.sig does not match this request (made for another request, or the request changed)",
    ],
    [
      'an unreadable signature',
      [signed(bob), { file: 'r.x.sig', status: 'unreadable' as const }],
      {},
      '1 of 2 signatures; r.x.sig is not a readable OpenPGP signature (corrupted?)',
    ],
  ])('refuses %s', (_name, signatures, extra, summary) => {
    const decision = decideApproval(facts({ signatures, ...extra }));
    expect(decision.approved).toBe(false);
    expect(decision.summary).toBe(summary);
  });

  it('with self_approval the requester counts; by --key the requester is known whatever the OS user', () => {
    expect(
      decideApproval(facts({ signatures: [signed(alice), signed(bob)], rule: { required: 2, selfApproval: true } }))
        .approved,
    ).toBe(true);
    const byKey = { ...request, requester: { user: 'root', key: bob.fingerprint } };
    expect(decideApproval(facts({ request: byKey, signatures: [signed(bob), signed(chen)] })).summary).toMatch(
      /bob made the request/,
    );
  });

  it('blocks whatever the count: expired request, changed files, changed plan, used before, other deployment', () => {
    const decision = decideApproval(
      facts({
        now: new Date('2026-11-03T00:00:00Z'),
        signatures: [signed(bob), signed(chen)],
        changedFiles: ['.env'],
        planDifferences: ['the hooks of db changed in the policy'],
        executedAt: 7,
        deployment: 'other',
      }),
    );
    expect(decision.approved).toBe(false);
    expect(decision.summary).toBe(
      'the request is for deployment mt5-crs, not other; the request expired 2026-11-02T10:00:00.000Z (make a new one: secrets rotate ID --request FILE); .env changed since the request was made; the hooks of db changed in the policy; this request was already carried out (audit #7)',
    );
  });
});

describe('parseRequest', () => {
  it('reads back what serializeRequest wrote and refuses any other spelling of it', () => {
    const text = serializeRequest(request);
    expect(parseRequest(text, 'r.json')).toEqual(request);
    expect(() => parseRequest(`${JSON.stringify(request, null, 2)}\n`, 'r.json')).toThrow(
      /edited after it was written/,
    );
    expect(() => parseRequest('{"format":"x"}', 'r.json')).toThrow(/not a change request/);
  });
});
