import { describe, expect, it } from 'vitest';
import { Detector } from '../../../src/core/scan/detector.js';
import { rules } from '../../../src/core/scan/rules.js';
import { fake } from '../../../src/core/scan/fake-values.js';

const SAMPLES = 5;

describe('every rule against its own examples (generated at test time)', () => {
  it('has unique ids, lowercase keywords, a secret group and examples', () => {
    expect(new Set(rules.map((rule) => rule.id)).size).toBe(rules.length);
    for (const rule of rules) {
      expect(
        rule.keywords.every((keyword) => keyword === keyword.toLowerCase()),
        rule.id,
      ).toBe(true);
      expect(rule.regex.source.includes('(?<secret>'), rule.id).toBe(true);
      expect(rule.examples.match.length, rule.id).toBeGreaterThan(0);
      expect(rule.examples.noMatch.length, rule.id).toBeGreaterThan(0);
    }
  });

  for (const rule of rules) {
    describe(rule.id, () => {
      const detector = new Detector({ rules: [rule] });
      it('finds every true example', () => {
        for (let round = 0; round < SAMPLES; round++) {
          for (const build of rule.examples.match) {
            const text = build();
            const file = rule.path ? (rule.examplePath ?? 'nuget.config') : 'example.txt';
            const found = rule.pathOnly ? detector.detectPath(text) : detector.detect({ text, file });
            expect(found.length, `${rule.id} missed: ${JSON.stringify(text).slice(0, 160)}`).toBeGreaterThan(0);
            expect(found[0]!.ruleId).toBe(rule.id);
          }
        }
      });
      it('ignores every false example', () => {
        for (let round = 0; round < SAMPLES; round++) {
          for (const build of rule.examples.noMatch) {
            const text = build();
            const found = rule.pathOnly
              ? detector.detectPath(text)
              : detector.detect({ text, file: rule.path ? (rule.examplePath ?? 'nuget.config') : 'example.txt' });
            expect(found, `${rule.id} flagged: ${JSON.stringify(text).slice(0, 160)}`).toEqual([]);
          }
        }
      });
    });
  }
});

describe('no rule backtracks catastrophically', () => {
  const MEGABYTE = 1024 * 1024;
  // Drawn once: a megabyte of random base64 reads as a placeholder ("…todo…") most times, and
  // fake values are drawn again until they do not, so one draw per rule cost seconds each.
  let randomBody: string | undefined;
  const megabyteOfBase64 = () => (randomBody ??= fake.base64(MEGABYTE));
  const adversarial = (rule: (typeof rules)[number]): string[] => {
    const keyword = rule.keywords[0] ?? '';
    const repeat = (unit: string) => unit.repeat(Math.ceil(MEGABYTE / unit.length)).slice(0, MEGABYTE);
    return [
      keyword + repeat('a'),
      repeat(`${keyword}a`),
      repeat(`${keyword} `),
      repeat(`${keyword}=`),
      repeat(`${keyword}:a`),
      repeat(`${keyword}-a`),
      keyword + repeat('0'),
      repeat(`${keyword}_`),
      repeat('-----BEGIN PRIVATE KEY-----'),
      repeat('curl -u a:'),
      repeat('x://a:b'),
      repeat('eyJ-'),
      repeat(' \\\n'),
      repeat(`${keyword}\n `),
      repeat('htpasswd -b '),
      `${keyword}=${megabyteOfBase64()}`,
      // A real-looking assignment in the middle of a minified line: the rule matches, and what judges the
      // match (the variable's name before it) must not rescan the half megabyte in front of it.
      `${repeat('a1').slice(0, MEGABYTE / 2)} ${keyword}="${fake.alnum(23)}7" ${repeat('a1').slice(0, MEGABYTE / 2)}`,
    ];
  };
  /**
   * Linear work on the same text (lowercasing and a simple scan): on a loaded, shared machine
   * everything is slower, so the budget grows with it. Catastrophic backtracking on 1 MB is
   * slower by orders of magnitude, and still fails.
   */
  const referenceMs = (text: string) => {
    const started = performance.now();
    text.toLowerCase();
    text.indexOf('\u0000no such text');
    text.split('\n').length;
    return performance.now() - started;
  };
  for (const rule of rules) {
    it(`${rule.id} finishes a 1 MB adversarial line quickly`, () => {
      const detector = new Detector({ rules: [rule] });
      for (const text of adversarial(rule)) {
        // One second is the line (typical: 100–300 ms for the densest rule on a loaded 2-core box).
        const budget = Math.max(1000, 40 * referenceMs(text));
        // The best of three runs: the machine is shared, and a catastrophic regex is slow every time.
        let elapsed = Infinity;
        for (let run = 0; run < 3 && elapsed >= budget; run++) {
          const started = performance.now();
          detector.detect({ text, file: 'adversarial.txt' });
          elapsed = Math.min(elapsed, performance.now() - started);
        }
        expect(
          elapsed,
          `${rule.id} took ${elapsed.toFixed(0)} ms (budget ${budget.toFixed(0)} ms) on ${JSON.stringify(text.slice(0, 24))}`,
        ).toBeLessThan(budget);
      }
    });
  }
});
