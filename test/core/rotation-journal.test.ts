import { describe, expect, it } from 'vitest';
import { decideRecovery, fileState, type FileState, type Journal } from '../../src/core/rotation/journal.js';

const journal = (phase: Journal['phase'], hooks: string[] = ['reload']): Journal => ({
  version: 1,
  rotation: 'r1',
  secret: 'dingtalk',
  kind: 'dingtalk',
  phase,
  startedAt: '2026-11-24T00:00:00.000Z',
  pid: 1,
  host: 'h',
  files: [{ path: '/d/.env', existed: true, mode: 0o600, before: 'old', after: 'new', previousCopy: 'previous-0' }],
  hooks,
  hookTimeout: '60s',
});

describe('fileState', () => {
  it.each([
    ['old', 'old'],
    ['new', 'new'],
    ['edited', 'other'],
    [undefined, 'missing'],
  ] as const)('%s → %s', (current, expected) => {
    expect(fileState(journal('swapping').files[0]!, current)).toBe(expected);
  });
});

describe('decideRecovery', () => {
  it.each<[string, Journal['phase'], FileState, boolean, string, boolean?]>([
    ['journal written, nothing swapped yet', 'swapping', 'old', false, 'roll-back', false],
    ['swapped, hooks not finished', 'hooks', 'new', false, 'roll-back', true],
    ['hooks ran, files already old again', 'rolling-back', 'old', false, 'roll-back', true],
    ['recording, audit entry written', 'recording', 'new', true, 'keep-new'],
    ['recording, no audit entry yet', 'recording', 'new', false, 'roll-back', true],
    ['recorded but the file is old', 'recording', 'old', true, 'must-act'],
    ['someone edited the file', 'hooks', 'other', false, 'must-act'],
    ['the file was removed', 'hooks', 'missing', false, 'must-act'],
  ])('%s', (_name, phase, state, recorded, action, rerunHooks) => {
    const decision = decideRecovery(journal(phase), [state], recorded);
    expect(decision.action).toBe(action);
    if (decision.action === 'roll-back') expect(decision.rerunHooks).toBe(rerunHooks);
  });
});
