import { Secret } from '../secret.js';
import { shannonEntropy } from './entropy.js';
import { findingFingerprint } from './fingerprint.js';
import { pathMatcher } from './glob.js';
import { KeywordMatcher } from './keyword-matcher.js';
import { PLACEHOLDER_PATTERNS } from './rules.js';
import type { ExtraMatcher } from './past-values.js';
import type { Finding, Fragment, ManagedValue, Rule, Severity } from './types.js';

/** The inline marker that suppresses findings on its line. */
export const ALLOW_MARKER = 'secrets:allow';

/** A fragment holding more matches of one rule than this is machine output; the rest are skipped. */
export const MAX_MATCHES_PER_RULE = 1000;

/** Above this many keyword lines in a fragment, a rule scans the whole fragment instead. */
const MAX_KEYWORD_LINES = 256;

/** Managed values shorter than this would match by chance all over a tree. */
export const MIN_MANAGED_LENGTH = 6;

export interface DetectorOptions {
  rules: readonly Rule[];
  managed?: readonly ManagedValue[];
  /** Globs of paths never reported (the policy's scan.ignore_paths). */
  ignorePaths?: readonly string[];
  /** One more matcher run on every fragment (past values of managed secrets, by fingerprint). */
  extra?: ExtraMatcher;
}

interface CompiledRule {
  rule: Readonly<Rule>;
  regex: RegExp;
  keywords: readonly string[];
  /** Indexes of its keywords in the detector's KeywordMatcher. */
  keywordIds: number[];
  /** Ranks overlapping findings: a provider rule beats the generic one on the same value. */
  rank: number;
}

interface Candidate {
  finding: Finding;
  start: number;
  end: number;
  rank: number;
}

/** Named groups that may hold the secret (JS forbids one name in two alternatives). */
const SECRET_GROUPS = ['secret', 'secret2', 'secret3', 'secret4'];

const GENERIC_FAMILIES = new Set(['generic']);

/**
 * Turns fragments of text into findings. Pure: it reads no file. Each rule's regex runs only on
 * fragments that hold one of its keywords, so most text is touched by one lowercase pass and a
 * few substring searches, not by every regex.
 */
export class Detector {
  readonly #rules: CompiledRule[];
  readonly #pathRules: Rule[];
  readonly #matcher: KeywordMatcher;
  /** The keywords of the rules that run on any path (mayFind). */
  readonly #anyPathMatcher: KeywordMatcher;
  /** For each keyword id, the indices (in #rules) of the rules it wakes. */
  readonly #rulesByKeyword: number[][];
  /** Per rule, the detect() call that last woke it (woken once per call without clearing). */
  readonly #wokenAt: Uint32Array;
  #wokenCall = 0;
  readonly #managed: ManagedValue[];
  readonly #ignored: (path: string) => boolean;
  readonly #extra: ExtraMatcher | undefined;

  constructor(options: DetectorOptions) {
    this.#pathRules = options.rules.filter((rule) => rule.pathOnly);
    this.#rules = options.rules
      .filter((rule) => !rule.pathOnly)
      .map((rule) => ({
        rule,
        regex: new RegExp(rule.regex.source, `${rule.regex.flags.replace(/[gyd]/g, '')}${rule.anchored ? 'yd' : 'gd'}`),
        keywords: rule.keywords.map((keyword) => keyword.toLowerCase()),
        keywordIds: [],
        rank: GENERIC_FAMILIES.has(rule.family) ? 1 : 2,
      }));
    const allKeywords = [...new Set(this.#rules.flatMap((compiled) => compiled.keywords))];
    const idOf = new Map(allKeywords.map((keyword, index) => [keyword, index]));
    for (const compiled of this.#rules) compiled.keywordIds = compiled.keywords.map((keyword) => idOf.get(keyword)!);
    this.#rulesByKeyword = allKeywords.map(() => []);
    this.#rules.forEach((compiled, index) => {
      for (const id of new Set(compiled.keywordIds)) this.#rulesByKeyword[id]!.push(index);
    });
    this.#matcher = new KeywordMatcher(allKeywords);
    this.#wokenAt = new Uint32Array(this.#rules.length);
    this.#anyPathMatcher = new KeywordMatcher([
      ...new Set(this.#rules.filter((compiled) => !compiled.rule.path).flatMap((compiled) => compiled.keywords)),
    ]);
    this.#managed = (options.managed ?? []).filter((value) => value.value.length >= MIN_MANAGED_LENGTH);
    this.#ignored = pathMatcher(options.ignorePaths ?? []);
    this.#extra = options.extra;
  }

  isIgnored(path: string): boolean {
    return this.#ignored(path);
  }

  /** Findings from the path alone (a committed key store is a leak whatever its bytes). */
  detectPath(file: string, origin: Omit<Fragment, 'text' | 'file'> = {}): Finding[] {
    if (this.#ignored(file)) return [];
    const findings: Finding[] = [];
    for (const rule of this.#pathRules) {
      const secret = rule.regex.exec(file)?.groups?.secret;
      if (secret === undefined) continue;
      const finding: Finding = {
        ruleId: rule.id,
        family: rule.family,
        description: rule.description,
        severity: rule.severity,
        file,
        line: 1,
        column: 1,
        secret: new Secret(secret),
        fingerprint: findingFingerprint(rule.id, file, file),
      };
      if (origin.commit !== undefined) finding.commit = origin.commit;
      if (origin.author !== undefined) finding.author = origin.author;
      if (origin.date !== undefined) finding.date = origin.date;
      findings.push(finding);
    }
    return findings;
  }

  /**
   * False only when detect() is sure to find nothing in a file at `path` made of these bytes'
   * lines: no managed value or extra matcher to look for, no rule for this path, and no
   * keyword of the other rules in them (keywords are what wakes every rule). Lets the history's
   * blob-once pass skip decoding most blobs.
   */
  mayFind(bytes: Uint8Array, path: string): boolean {
    if (this.#managed.length > 0 || this.#extra) return true;
    if (this.hasRuleForPath(path)) return true;
    return this.#anyPathMatcher.mayOccurIn(bytes);
  }

  /** Whether a rule runs on files at this path only (.pgpass, .npmrc, nuget.config…). */
  hasRuleForPath(path: string): boolean {
    return this.#rules.some((compiled) => compiled.rule.path?.test(path));
  }

  detect(fragment: Fragment): Finding[] {
    if (this.#ignored(fragment.file)) return [];
    const text = fragment.text;
    const candidates: Candidate[] = [];
    const lines = new LineIndex(text);

    for (const managed of this.#managed) {
      for (
        let at = text.indexOf(managed.value);
        at !== -1;
        at = text.indexOf(managed.value, at + managed.value.length)
      ) {
        this.#push(candidates, fragment, lines, at, managed.value, {
          id: `managed:${managed.id}`,
          family: 'managed',
          description: `current value of managed secret ${managed.id}`,
          severity: 'critical',
          rank: 3,
        });
      }
    }

    if (this.#extra)
      for (const hit of this.#extra(fragment)) this.#push(candidates, fragment, lines, hit.at, hit.secret, hit.rule);

    if (this.#rules.length > 0) {
      // Lowercased only when needed: for ASCII text the matcher folds case as it reads, and the
      // lowercased copy is made for the rules that a keyword wakes.
      let lowered: string | undefined;
      let found = this.#matcher.foundIn(text);
      if (found === undefined) {
        lowered = text.toLowerCase();
        found = this.#matcher.foundInLower(lowered);
      }
      // The rules woken by the keywords present, found from the keywords: a history scan detects
      // in tens of thousands of small fragments, where asking each of ~180 rules costs more than
      // the few regexes that then run. They run in the rules' order, as overlaps are settled in it.
      const woken: number[] = [];
      if (found.length > 0) {
        const call = (this.#wokenCall = (this.#wokenCall + 1) >>> 0 || 1);
        if (call === 1) this.#wokenAt.fill(0);
        for (const id of found) {
          for (const index of this.#rulesByKeyword[id]!) {
            if (this.#wokenAt[index] === call) continue;
            this.#wokenAt[index] = call;
            woken.push(index);
          }
        }
        woken.sort((a, b) => a - b);
      }
      const lower = woken.length > 0 ? (lowered ?? text.toLowerCase()) : '';
      for (const index of woken) {
        const compiled = this.#rules[index]!;
        const { rule, regex } = compiled;
        if (rule.path && !rule.path.test(fragment.file)) continue;
        let matches = 0;
        const accept = (match: RegExpExecArray, offset: number) => {
          const group = SECRET_GROUPS.find((name) => match.groups?.[name] !== undefined) ?? 'secret';
          const secret = match.groups?.[group];
          const span = match.indices?.groups?.[group];
          if (secret === undefined || span === undefined) return;
          if (!acceptSecret(rule, secret)) return;
          if (rule.validate) {
            const at = offset + span[0];
            const lineStart = text.lastIndexOf('\n', at - 1) + 1;
            let lineEnd = text.indexOf('\n', at);
            if (lineEnd === -1) lineEnd = text.length;
            const context = {
              line: text.slice(lineStart, lineEnd),
              before: text.slice(lineStart, at),
              match: match[0],
              prefix: match[0].slice(0, span[0] - match.index),
              window: text.slice(Math.max(0, at - 200), at),
              file: fragment.file,
            };
            if (!rule.validate(secret, context)) return;
          }
          this.#push(candidates, fragment, lines, offset + span[0], secret, { ...rule, rank: compiled.rank });
        };
        if (rule.anchored) {
          for (const at of keywordPositions(lower, compiled.keywords)) {
            if (matches >= MAX_MATCHES_PER_RULE) break;
            regex.lastIndex = at;
            const match = regex.exec(text);
            if (match) {
              matches++;
              accept(match, 0);
            }
          }
          continue;
        }
        const windows = rule.multiline ? undefined : keywordLines(text, lower, compiled.keywords);
        // Only the lines holding a keyword: most text never meets the regex at all. When the
        // keyword is on very many lines, one pass over the whole text costs less than many small ones.
        if (windows) {
          for (const [start, end] of windows) {
            const line = text.slice(start, end);
            regex.lastIndex = 0;
            for (
              let match = regex.exec(line);
              match !== null && matches < MAX_MATCHES_PER_RULE;
              match = regex.exec(line)
            ) {
              matches++;
              if (match[0].length === 0) regex.lastIndex++;
              accept(match, start);
            }
          }
          continue;
        }
        regex.lastIndex = 0;
        for (let match = regex.exec(text); match !== null && matches < MAX_MATCHES_PER_RULE; match = regex.exec(text)) {
          matches++;
          if (match[0].length === 0) regex.lastIndex++;
          accept(match, 0);
        }
      }
    }
    return resolveOverlaps(candidates);
  }

  #push(
    candidates: Candidate[],
    fragment: Fragment,
    lines: LineIndex,
    start: number,
    secret: string,
    rule: { id: string; family: string; description: string; severity: Severity; rank: number },
  ): void {
    const { lineIndex, column, allowed } = lines.locate(start);
    if (allowed) return;
    const line = fragment.lineNumbers?.[lineIndex] ?? (fragment.startLine ?? 1) + lineIndex;
    const finding: Finding = {
      ruleId: rule.id,
      family: rule.family,
      description: rule.description,
      severity: rule.severity,
      file: fragment.file,
      line,
      column,
      secret: new Secret(secret),
      fingerprint: findingFingerprint(rule.id, fragment.file, secret),
    };
    if (fragment.commit !== undefined) finding.commit = fragment.commit;
    if (fragment.author !== undefined) finding.author = fragment.author;
    if (fragment.date !== undefined) finding.date = fragment.date;
    candidates.push({ finding, start, end: start + secret.length, rank: rule.rank });
  }
}

/**
 * The [start, end) of every line holding one of the keywords, in order, each once; undefined
 * when there are more than MAX_KEYWORD_LINES of them (the caller then scans the whole text).
 */
function keywordLines(text: string, lower: string, keywords: readonly string[]): Array<[number, number]> | undefined {
  const starts: number[] = [];
  for (const keyword of keywords) {
    for (let at = lower.indexOf(keyword); at !== -1;) {
      if (starts.length > 2 * MAX_KEYWORD_LINES) return undefined;
      const start = text.lastIndexOf('\n', at) + 1;
      let end = text.indexOf('\n', at);
      if (end === -1) end = text.length;
      starts.push(start);
      // The rest of this line holds nothing new for this keyword.
      at = lower.indexOf(keyword, end);
    }
  }
  starts.sort((a, b) => a - b);
  const lines: Array<[number, number]> = [];
  let previous = -1;
  for (const start of starts) {
    if (start === previous) continue;
    previous = start;
    const end = text.indexOf('\n', start);
    lines.push([start, end === -1 ? text.length : end]);
  }
  return lines.length > MAX_KEYWORD_LINES ? undefined : lines;
}

/** Every start of any keyword in the lowercased text, in order, without repeats. */
function keywordPositions(lower: string, keywords: readonly string[]): number[] {
  const positions = new Set<number>();
  for (const keyword of keywords) {
    for (let at = lower.indexOf(keyword); at !== -1; at = lower.indexOf(keyword, at + 1)) positions.add(at);
  }
  return [...positions].sort((a, b) => a - b);
}

/** Entropy, the rule's own allow-list and (for value rules) the placeholder list. */
export function acceptSecret(rule: Readonly<Rule>, secret: string): boolean {
  const bare = secret.replace(/^["']|["']$/g, '');
  if (rule.minEntropy !== undefined && shannonEntropy(bare) < rule.minEntropy) return false;
  if (rule.allow?.some((pattern) => pattern.test(secret) || pattern.test(bare))) return false;
  if (rule.placeholders && PLACEHOLDER_PATTERNS.some((pattern) => pattern.test(bare))) return false;
  return true;
}

/**
 * Where two findings cover the same characters, the higher rank (managed > provider > generic)
 * wins. One sweep in start order, so a line holding thousands of matches stays linear.
 */
function resolveOverlaps(candidates: Candidate[]): Finding[] {
  if (candidates.length < 2) return candidates.map((candidate) => candidate.finding);
  const sorted = [...candidates].sort((a, b) => a.start - b.start || b.rank - a.rank);
  const kept: Candidate[] = [];
  for (const candidate of sorted) {
    const last = kept[kept.length - 1];
    if (last && candidate.start < last.end) {
      if (candidate.rank > last.rank) kept[kept.length - 1] = candidate;
      continue;
    }
    kept.push(candidate);
  }
  return kept.map((candidate) => candidate.finding);
}

/** Line number and column of an offset, and whether its line carries the allow marker. */
class LineIndex {
  readonly #text: string;
  #starts: number[] | undefined;
  /** Made on the first finding: most fragments have none. */
  #allowed: Map<number, boolean> | undefined;

  constructor(text: string) {
    this.#text = text;
  }

  locate(offset: number): { lineIndex: number; column: number; allowed: boolean } {
    if (!this.#starts) {
      const starts = [0];
      for (let at = this.#text.indexOf('\n'); at !== -1; at = this.#text.indexOf('\n', at + 1)) starts.push(at + 1);
      this.#starts = starts;
    }
    const starts = this.#starts;
    let low = 0;
    let high = starts.length - 1;
    while (low < high) {
      const mid = (low + high + 1) >> 1;
      if (starts[mid]! <= offset) low = mid;
      else high = mid - 1;
    }
    const lineStart = starts[low]!;
    const next = starts[low + 1];
    this.#allowed ??= new Map();
    let allowed = this.#allowed.get(low);
    if (allowed === undefined) {
      const lineEnd = next === undefined ? this.#text.length : next - 1;
      const marker = this.#text.indexOf(ALLOW_MARKER, lineStart);
      allowed = marker !== -1 && marker + ALLOW_MARKER.length <= lineEnd;
      this.#allowed.set(low, allowed);
    }
    return { lineIndex: low, column: offset - lineStart + 1, allowed };
  }
}
