import { describe, expect, it } from 'vitest';
import {
  GENESIS_HASH,
  hashLine,
  lastRotations,
  makeAuditLine,
  parseAuditLine,
  verifyAuditChain,
} from '../../src/core/audit.js';

function trail(count: number): string[] {
  const lines: string[] = [];
  let prev = GENESIS_HASH;
  for (let seq = 1; seq <= count; seq++) {
    const line = makeAuditLine(
      { action: 'rotated', secret: `s${seq}`, fingerprint: `hmac-sha256:${seq}` },
      { seq, time: new Date(Date.UTC(2026, 0, seq)), actor: 'ops', prev },
    );
    lines.push(line);
    prev = hashLine(line);
  }
  return lines;
}
const head = (lines: string[]) => ({ seq: lines.length, hash: hashLine(lines[lines.length - 1]!) });
const text = (lines: string[]) => lines.map((line) => `${line}\n`).join('');

describe('verifyAuditChain', () => {
  it('accepts an intact trail and an empty one', () => {
    const lines = trail(5);
    expect(verifyAuditChain(text(lines), head(lines))).toEqual({ ok: true, entries: 5 });
    expect(verifyAuditChain('', undefined)).toEqual({ ok: true, entries: 0 });
  });
  it('names the line after an edited line', () => {
    const lines = trail(5);
    lines[1] = lines[1]!.replace('"s2"', '"s9"');
    const result = verifyAuditChain(text(lines), head(lines));
    expect(result).toMatchObject({ ok: false, badLine: 3 });
    expect(result.reason).toMatch(/does not chain/);
  });
  it('names the place of a deleted line', () => {
    const lines = trail(5);
    lines.splice(2, 1);
    expect(verifyAuditChain(text(lines), head(trail(5)))).toMatchObject({ ok: false, badLine: 3 });
  });
  it('names the place of reordered lines', () => {
    const lines = trail(5);
    [lines[1], lines[2]] = [lines[2]!, lines[1]!];
    expect(verifyAuditChain(text(lines), head(trail(5)))).toMatchObject({ ok: false, badLine: 2 });
  });
  it('notices the last line removed, through the head', () => {
    const full = trail(5);
    const result = verifyAuditChain(text(full.slice(0, 4)), head(full));
    expect(result).toMatchObject({ ok: false });
    expect(result.reason).toMatch(/removed from the end/);
  });
  it('notices the last line edited, through the head', () => {
    const lines = trail(3);
    const original = head(lines);
    lines[2] = lines[2]!.replace('"s3"', '"sX"');
    expect(verifyAuditChain(text(lines), original)).toMatchObject({ ok: false, badLine: 3 });
  });
  it('refuses a line that is not JSON', () => {
    const lines = trail(3);
    lines[1] = 'garbage';
    expect(verifyAuditChain(text(lines), head(lines))).toMatchObject({ ok: false, badLine: 2 });
  });
});

describe('lastRotations', () => {
  it('takes the latest rotated or recorded date per secret, recorded at its --on date', () => {
    const lines = trail(2).map((line) => parseAuditLine(line)!);
    lines.push({
      ...lines[0]!,
      seq: 3,
      action: 'recorded',
      secret: 's1',
      time: '2026-06-01T00:00:00.000Z',
      details: { on: '2026-05-01T00:00:00.000Z' },
    });
    const result = lastRotations(lines);
    expect(result.get('s1')?.toISOString()).toBe('2026-05-01T00:00:00.000Z');
    expect(result.get('s2')?.toISOString()).toBe('2026-01-02T00:00:00.000Z');
  });
});

describe('lastRotations with a fleet', () => {
  const entry = (seq: number, action: string, time: string, details?: Record<string, unknown>) => ({
    seq,
    time,
    actor: 'ops',
    action,
    secret: 'jwt',
    prev: GENESIS_HASH,
    ...(details ? { details } : {}),
  });
  it('dates a shared secret by the fleet version it last applied, also when the fleet went back to an older one', () => {
    const applied = [
      entry(1, 'fleet-applied', '2026-03-01T00:00:00.000Z', { versionCreated: '2026-03-01T00:00:00.000Z' }),
      entry(2, 'fleet-applied', '2026-06-01T00:00:00.000Z', { versionCreated: '2026-06-01T00:00:00.000Z' }),
      // the version of June was dropped: the host went back to March's value
      entry(3, 'fleet-applied', '2026-06-01T00:05:00.000Z', { versionCreated: '2026-03-01T00:00:00.000Z' }),
    ];
    expect(lastRotations(applied).get('jwt')?.toISOString()).toBe('2026-03-01T00:00:00.000Z');
    expect(lastRotations(applied.slice(0, 2)).get('jwt')?.toISOString()).toBe('2026-06-01T00:00:00.000Z');
  });
  it('a host that joined late takes the version date, not the day it applied it', () => {
    const late = [
      entry(1, 'fleet-applied', '2026-09-01T00:00:00.000Z', { versionCreated: '2026-02-01T00:00:00.000Z' }),
    ];
    expect(lastRotations(late).get('jwt')?.toISOString()).toBe('2026-02-01T00:00:00.000Z');
  });
});
