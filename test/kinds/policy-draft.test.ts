import { describe, expect, it } from 'vitest';
import { parsePolicy } from '../../src/kinds/index.js';
import { renderPolicyYaml, type PolicyDraft } from '../../src/kinds/policy-draft.js';

const base: PolicyDraft = {
  deployment: 'mt5-crs',
  root: '/opt/mt5-crs',
  envFile: '.env',
  secrets: [],
  rotateEvery: '90d',
  backup: { recipients: [] },
  createdOn: '2026-11-24',
};

describe('renderPolicyYaml', () => {
  it('writes a valid policy even with no secrets', () => {
    const policy = parsePolicy(renderPolicyYaml(base), '/tmp/secrets.yaml');
    expect(policy.secrets).toEqual([]);
  });

  it('quotes what YAML needs quoted: commas in paths, "*.gpg", modes', () => {
    const text = renderPolicyYaml({
      ...base,
      htpasswd: { id: 'dashboard-password', file: '/etc/nginx/.htpasswd', user: 'admin' },
      backup: { recipients: ['keys/ops, old.asc', 'keys/new.asc'], passphraseEnv: 'PASS' },
    });
    const policy = parsePolicy(text, '/tmp/secrets.yaml');
    expect(policy.doc.backup.recipients).toEqual(['keys/ops, old.asc', 'keys/new.asc']);
    expect(policy.doc.compliance.modes).toEqual({ '.env': '600', '/etc/nginx/.htpasswd': '640' });
    expect(policy.doc.compliance.gitignore).toContain('*.gpg');
  });

  it('keeps long steps on one line and comments each section', () => {
    const text = renderPolicyYaml({
      ...base,
      secrets: [
        {
          id: 'openai-api-key',
          kind: 'manual',
          envKey: 'OPENAI_API_KEY_WITH_A_VERY_LONG_NAME_THAT_WOULD_FOLD',
          category: 'api-key',
          reason: 'an API key',
        },
      ],
      notifyDingtalk: undefined,
    });
    const policy = parsePolicy(text, '/tmp/secrets.yaml');
    expect(policy.doc.secrets['openai-api-key']?.steps[0]).toContain(
      'OPENAI_API_KEY_WITH_A_VERY_LONG_NAME_THAT_WOULD_FOLD',
    );
    for (const section of ['secrets:', 'backup:', 'compliance:']) {
      const before = text.split('\n')[text.split('\n').indexOf(section) - 1] ?? '';
      expect(before, section).toMatch(/^#/);
    }
  });

  it('writes a keyword-only DingTalk robot as secret_key: null', () => {
    const text = renderPolicyYaml({
      ...base,
      secrets: [{ id: 'dingtalk', kind: 'dingtalk', urlKey: 'DINGTALK_WEBHOOK_URL', secretKey: null, reason: 'robot' }],
      notifyDingtalk: 'dingtalk',
    });
    expect(parsePolicy(text, '/tmp/secrets.yaml').doc.secrets.dingtalk).toMatchObject({
      kind: 'dingtalk',
      secret_key: null,
    });
  });
});
