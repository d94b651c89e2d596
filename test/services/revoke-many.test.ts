import { describe, expect, it } from 'vitest';
import { revocationOrder } from '../../src/services/revoke-many.js';

describe('revocationOrder: alerts keep working as long as possible', () => {
  it('puts the notify robot last when it did not leak', () => {
    expect(revocationOrder(['robot', 'app', 'db'], 'robot', false)).toEqual(['app', 'db', 'robot']);
  });
  it('puts the notify robot first when it leaked', () => {
    expect(revocationOrder(['app', 'db', 'robot'], 'robot', true)).toEqual(['robot', 'app', 'db']);
  });
  it('keeps the order when the robot is not among them', () => {
    expect(revocationOrder(['app', 'db'], 'robot', true)).toEqual(['app', 'db']);
  });
});
