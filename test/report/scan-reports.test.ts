import { describe, expect, it } from 'vitest';
import { Secret } from '../../src/core/secret.js';
import type { Finding } from '../../src/core/scan/types.js';
import { rules } from '../../src/core/scan/rules.js';
import { renderScanJson } from '../../src/report/scan-json.js';
import { renderScanSarif } from '../../src/report/scan-sarif.js';
import { renderScanText } from '../../src/report/scan-text.js';
import { redactSecret } from '../../src/report/scan-redact.js';

// Reviewed golden files, compared with vitest's toMatchFileSnapshot: `vitest -u` rewrites them
// for review; under CI (CI=true) a missing or different file fails and nothing is written.
// Fixed, obviously fake values: a golden file must not change from run to run, and must not
// look like a real token (the repository scans itself).
const findings: Finding[] = [
  {
    ruleId: 'github-token',
    family: 'github',
    description: 'GitHub token (classic PAT, OAuth, app user/installation, refresh)',
    severity: 'high',
    file: 'src/config.ts',
    line: 12,
    column: 17,
    secret: new Secret('ghp_' + 'A1b2'.repeat(9)),
    fingerprint: 'f'.repeat(64),
  },
  {
    ruleId: 'managed:dingtalk',
    family: 'managed',
    description: 'current value of managed secret dingtalk',
    severity: 'critical',
    file: 'docs/setup file.md',
    line: 3,
    column: 1,
    secret: new Secret('SEC' + '0a'.repeat(32)),
    fingerprint: 'e'.repeat(64),
    commit: '1'.repeat(40),
    author: 'Test Author <author@example.org>',
    date: '2024-01-02T03:04:05+00:00',
    laterCommits: 2,
  },
];
const summary = {
  mode: 'history' as const,
  accepted: 1,
  scanned: { files: 0, commits: 7, skippedBinary: 0, skippedLarge: 0 },
};

describe('scan reports', () => {
  it('redacts to the first four characters, an ellipsis and the length', () => {
    expect(redactSecret('ghp_' + 'x'.repeat(36))).toBe('ghp_…(40)');
    expect(redactSecret('short')).toBe('…(5)');
  });

  it('text', async () => {
    const text = renderScanText(findings, summary);
    expect(text).not.toContain('A1b2A1b2');
    await expect(text).toMatchFileSnapshot('./golden/scan.txt');
  });

  it('json has exactly the documented shape', async () => {
    const json = renderScanJson(findings);
    await expect(json).toMatchFileSnapshot('./golden/scan.json');
    const parsed = JSON.parse(json) as { findings: Array<Record<string, unknown>> };
    expect(Object.keys(parsed.findings[0]!)).toEqual([
      'ruleId',
      'severity',
      'file',
      'line',
      'column',
      'match',
      'fingerprint',
    ]);
    expect(Object.keys(parsed.findings[1]!)).toEqual([
      'ruleId',
      'severity',
      'file',
      'line',
      'column',
      'commit',
      'author',
      'date',
      'match',
      'fingerprint',
    ]);
    expect(JSON.parse(renderScanJson(findings, { reveal: true })).findings[0].match).toBe('ghp_' + 'A1b2'.repeat(9));
  });

  it('sarif', async () => {
    // Only the rule the findings use, so editing another rule does not churn the golden file.
    const sarif = renderScanSarif(findings, {
      version: '0.1.0',
      rules: rules.filter((rule) => rule.id === 'github-token'),
    });
    await expect(sarif).toMatchFileSnapshot('./golden/scan.sarif');
    expect(validateSarif(JSON.parse(sarif))).toEqual([]);
    expect(validateSarif(JSON.parse(renderScanSarif([], { version: '0.1.0', rules })))).toEqual([]);
  });
});

/**
 * The parts of the SARIF 2.1.0 schema (sarif-schema-2.1.0.json) that GitHub code scanning
 * relies on, checked structurally: required properties, types, enums and index consistency.
 * Returns the list of violations.
 */
function validateSarif(log: any): string[] {
  const errors: string[] = [];
  const need = (ok: boolean, message: string) => {
    if (!ok) errors.push(message);
  };
  const isObject = (value: unknown) => typeof value === 'object' && value !== null && !Array.isArray(value);
  need(log.version === '2.1.0', 'version must be "2.1.0"');
  need(typeof log.$schema === 'string' && log.$schema.includes('sarif'), '$schema should name the SARIF schema');
  need(Array.isArray(log.runs), 'runs must be an array');
  for (const [r, run] of (log.runs ?? []).entries()) {
    const driver = run?.tool?.driver;
    need(isObject(driver), `runs[${r}].tool.driver is required`);
    need(typeof driver?.name === 'string' && driver.name.length > 0, `runs[${r}].tool.driver.name is required`);
    const ruleIds: string[] = [];
    for (const [i, rule] of (driver?.rules ?? []).entries()) {
      need(typeof rule.id === 'string', `rules[${i}].id is required`);
      ruleIds.push(rule.id);
      if (rule.shortDescription)
        need(typeof rule.shortDescription.text === 'string', `rules[${i}].shortDescription.text is required`);
      if (rule.defaultConfiguration)
        need(['none', 'note', 'warning', 'error'].includes(rule.defaultConfiguration.level), `rules[${i}] level`);
      const severity = rule.properties?.['security-severity'];
      if (severity !== undefined)
        need(
          !Number.isNaN(Number(severity)) && Number(severity) >= 0 && Number(severity) <= 10,
          `rules[${i}] security-severity`,
        );
    }
    need(new Set(ruleIds).size === ruleIds.length, 'rule ids must be unique');
    need(Array.isArray(run.results), `runs[${r}].results must be an array`);
    for (const [i, result] of (run.results ?? []).entries()) {
      need(
        isObject(result.message) && typeof result.message.text === 'string',
        `results[${i}].message.text is required`,
      );
      need(typeof result.ruleId === 'string', `results[${i}].ruleId`);
      if (result.ruleIndex !== undefined)
        need(ruleIds[result.ruleIndex] === result.ruleId, `results[${i}].ruleIndex must point at its rule`);
      need(['none', 'note', 'warning', 'error'].includes(result.level), `results[${i}].level`);
      need(Array.isArray(result.locations) && result.locations.length > 0, `results[${i}].locations`);
      for (const location of result.locations ?? []) {
        const physical = location.physicalLocation;
        need(
          typeof physical?.artifactLocation?.uri === 'string' && !/\s/.test(physical.artifactLocation.uri),
          `results[${i}] uri`,
        );
        need(
          Number.isInteger(physical?.region?.startLine) && physical.region.startLine >= 1,
          `results[${i}] startLine >= 1`,
        );
        if (physical?.region?.startColumn !== undefined)
          need(
            Number.isInteger(physical.region.startColumn) && physical.region.startColumn >= 1,
            `results[${i}] startColumn`,
          );
      }
      if (result.partialFingerprints)
        need(
          Object.values(result.partialFingerprints).every((value) => typeof value === 'string'),
          `results[${i}] partialFingerprints`,
        );
    }
  }
  return errors;
}
