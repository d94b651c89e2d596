import type { Secret } from '../secret.js';

export type Severity = 'critical' | 'high' | 'medium' | 'low';

/** Builds one example text at test time, so that no whole secret-shaped literal is ever committed. */
export type ExampleBuilder = () => string;

/**
 * A detection rule, as data. The regex carries the secret in a named group `secret`; the
 * detector runs it only on text holding one of the keywords (lowercase), which is what keeps a
 * scan at about one pass over the text.
 */
export interface Rule {
  id: string;
  /** Groups rules for reports and the bench (aws, github, generic, ...). */
  family: string;
  description: string;
  regex: RegExp;
  keywords: string[];
  severity: Severity;
  /** Minimum Shannon entropy (bits per character) of the secret. */
  minEntropy?: number;
  /** A secret matching any of these is a placeholder or documented example, not a finding. */
  allow?: RegExp[];
  /** Also drop secrets that look like placeholders (PLACEHOLDER_PATTERNS): for value rules without a fixed prefix. */
  placeholders?: boolean;
  /**
   * The regex may match across lines (PEM bodies, YAML blocks, continued shell lines). Other
   * rules run only on the lines that hold one of their keywords.
   */
  multiline?: boolean;
  /**
   * The regex starts where one of its keywords starts: the detector runs it (sticky) only at
   * keyword positions instead of across the whole text. For rules with many or common keywords.
   */
  anchored?: boolean;
  /** The rule looks at the file's path, not its content: the regex runs on the path (binary key stores). */
  pathOnly?: boolean;
  /** Only files whose path matches (e.g. nuget.config). */
  path?: RegExp;
  /** A file name its examples are tested under (rules with `path`). */
  examplePath?: string;
  /**
   * A last look at a match in its context (a checksum, the line it sits on, the file): false
   * drops it. For what a regex cannot say well: a CRC, a decoded payload, a word before the value.
   */
  validate?: (secret: string, context: MatchContext) => boolean;
  examples: { match: ExampleBuilder[]; noMatch: ExampleBuilder[] };
}

/** Where a match sits: its whole line, the text before the secret on that line, and the file. */
export interface MatchContext {
  line: string;
  before: string;
  /** The whole match of the rule's regex. */
  match: string;
  /** The part of the match before the secret (the name and operator of an assignment). */
  prefix: string;
  /** Up to 200 characters before the secret, across lines (a name on the line above). */
  window: string;
  file: string;
}

/** A piece of text from one source: a file, or the lines a commit added to a file. */
export interface Fragment {
  text: string;
  /** Path relative to the scanned root, with forward slashes. */
  file: string;
  /** Line number of the first line of `text` (1-based); default 1. */
  startLine?: number;
  /** When `text` joins non-adjacent lines (a diff's added lines): the real line of each. */
  lineNumbers?: number[];
  commit?: string;
  author?: string;
  date?: string;
}

export interface Finding {
  ruleId: string;
  family: string;
  description: string;
  severity: Severity;
  file: string;
  line: number;
  column: number;
  secret: Secret;
  fingerprint: string;
  commit?: string;
  author?: string;
  date?: string;
  /** History: how many later commits added the same secret to the same file again. */
  laterCommits?: number;
}

/** A literal value to look for (a managed secret's current value). */
export interface ManagedValue {
  id: string;
  value: string;
}

/** What a scan did not cover, by name, so that a report can say so rather than pass in silence. */
export interface ScanSkipped {
  binary: string[];
  large: string[];
  /** Files and folders (ending in /) the scan could not read: permissions, I/O errors. */
  unreadable: string[];
  /** Archives (or nested archives) not opened, or not wholly: corrupt, encrypted, over a limit (a zip bomb). */
  archives: Array<{ file: string; reason: string }>;
  /** Parts of the repository this mode does not cover (submodule histories, ...). */
  notes: string[];
}
