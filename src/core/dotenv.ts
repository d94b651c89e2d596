import { SecretsError } from './errors.js';

export type QuoteStyle = 'none' | 'single' | 'double';

/** One assignment in a .env file, with where its value sits in the text. */
export interface EnvEntry {
  key: string;
  value: string;
  quote: QuoteStyle;
  /** 1-based line of the key. */
  line: number;
  exported: boolean;
  /** Offsets in the whole text of the raw value (quotes included), for format-preserving edits. */
  valueStart: number;
  valueEnd: number;
}

export interface EnvDocument {
  text: string;
  entries: EnvEntry[];
  /** Line ending used by the file (kept on rewrite). */
  eol: '\n' | '\r\n';
}

const KEY = /^[A-Za-z_][A-Za-z0-9_.-]*$/;

/**
 * Parses .env text the way bash `source`, the `dotenv` package and python-dotenv agree on:
 * `KEY=value`, optional `export `, `#` comments, single quotes literal, double quotes with
 * \n \" \\ escapes (and line breaks inside), unquoted values ending at ` #`. A line none of them
 * would read the same way is an error naming file:line, so nothing is rewritten on a guess.
 */
export function parseDotenv(text: string, file: string): EnvDocument {
  const eol = text.includes('\r\n') ? '\r\n' : '\n';
  const entries: EnvEntry[] = [];
  let offset = 0;
  let line = 1;
  const length = text.length;
  while (offset < length) {
    const lineStart = offset;
    const startLine = line;
    let end = text.indexOf('\n', offset);
    if (end === -1) end = length;
    const rawLine = text.slice(offset, end).replace(/\r$/, '');
    const trimmed = rawLine.trim();
    if (trimmed === '' || trimmed.startsWith('#')) {
      offset = end + 1;
      line++;
      continue;
    }
    const match = /^(\s*)(export\s+)?([^=\s]+)\s*=\s*/.exec(rawLine);
    if (!match || !KEY.test(match[3]!)) {
      throw new SecretsError('env-syntax', 'cannot read this line as KEY=value', { where: `${file}:${startLine}` });
    }
    const key = match[3]!;
    const valueStart = lineStart + match[0].length;
    const first = text[valueStart];
    let value: string;
    let quote: QuoteStyle;
    let valueEnd: number;
    if (first === "'" || first === '"') {
      quote = first === "'" ? 'single' : 'double';
      let index = valueStart + 1;
      let result = '';
      for (;;) {
        if (index >= length) {
          throw new SecretsError('env-syntax', `unterminated ${quote}-quoted value of ${key}`, {
            where: `${file}:${startLine}`,
          });
        }
        const char = text[index]!;
        if (char === first) break;
        if (quote === 'double' && char === '\\' && index + 1 < length) {
          const next = text[index + 1]!;
          result +=
            next === 'n'
              ? '\n'
              : next === 'r'
                ? '\r'
                : next === 't'
                  ? '\t'
                  : next === '"' || next === '\\'
                    ? next
                    : `\\${next}`;
          index += 2;
          continue;
        }
        if (char === '\n') line++;
        result += char;
        index++;
      }
      value = result;
      valueEnd = index + 1;
      end = text.indexOf('\n', valueEnd);
      if (end === -1) end = length;
      const rest = text.slice(valueEnd, end).replace(/\r$/, '');
      if (rest.trim() !== '' && !/^\s+#/.test(rest)) {
        throw new SecretsError('env-syntax', `unexpected text after the quoted value of ${key}`, {
          where: `${file}:${line}`,
        });
      }
    } else {
      quote = 'none';
      const rest = text.slice(valueStart, end).replace(/\r$/, '');
      const comment = /\s+#/.exec(rest);
      const raw = (comment ? rest.slice(0, comment.index) : rest).replace(/\s+$/, '');
      value = raw;
      valueEnd = valueStart + raw.length;
      if (/\s/.test(raw) || raw.includes("'") || raw.includes('"') || raw.includes('`') || raw.includes('\\')) {
        throw new SecretsError(
          'env-syntax',
          `the value of ${key} needs quotes: bash, dotenv and python-dotenv would each read it differently`,
          { where: `${file}:${startLine}` },
        );
      }
    }
    entries.push({ key, value, quote, line: startLine, exported: match[2] !== undefined, valueStart, valueEnd });
    offset = end + 1;
    line++;
  }
  return { text, entries, eol };
}

/** The entries of `keys`; a key that appears twice is an error (which one would a reader take?). */
export function requireUniqueKeys(doc: EnvDocument, keys: string[], file: string): Map<string, EnvEntry> {
  const found = new Map<string, EnvEntry>();
  for (const entry of doc.entries) {
    if (!keys.includes(entry.key)) continue;
    const earlier = found.get(entry.key);
    if (earlier) {
      throw new SecretsError(
        'env-duplicate',
        `${entry.key} is set twice (also on line ${earlier.line}); remove one before rotating`,
        { where: `${file}:${entry.line}` },
      );
    }
    found.set(entry.key, entry);
  }
  return found;
}

export function envValue(doc: EnvDocument, key: string): string | undefined {
  let value: string | undefined;
  for (const entry of doc.entries) if (entry.key === key) value = entry.value;
  return value;
}

/**
 * Characters that mean the same, unquoted, to bash `source`, dotenv, python-dotenv, systemd's
 * EnvironmentFile and `docker run --env-file` (which keeps quotes as part of the value, so a
 * value that needs none must get none). Bash does no globbing in an assignment, so `?` is
 * literal; `~` is too, except first or after `:`/`=`, where bash expands it to a home folder.
 */
const UNQUOTED_SAFE = /^[A-Za-z0-9_./:@%+,=?~-]+$/;
const TILDE_EXPANDED = /(^|[:=])~/;

/** Whether `value` can be written without quotes and read back the same by every reader above. */
export function safeUnquoted(value: string): boolean {
  return UNQUOTED_SAFE.test(value) && !TILDE_EXPANDED.test(value);
}

/**
 * How `value` is written so that bash, dotenv and python-dotenv all read it literally, keeping
 * the style the line already had when that is safe. Unquoted loses to `#` (dotenv: comment),
 * `$` (bash and python-dotenv expand it), `&`/`;`/spaces (bash); double quotes lose to `$`, `\`,
 * backticks and `"`; single quotes are literal for all three except `'`, `\` (python-dotenv
 * unescapes `\'` and `\\`) and line breaks — a value holding one of those has no safe spelling.
 */
export function quoteDotenvValue(value: string, preferred: QuoteStyle = 'none'): string {
  if (/[\r\n]/.test(value) || value.includes("'") || value.includes('\\')) {
    throw new SecretsError(
      'env-unquotable',
      'the new value holds a quote, backslash or line break that bash, dotenv and python-dotenv would read differently; nothing was written',
      {
        hint: "choose a value without ' \\ or line breaks",
      },
    );
  }
  if (preferred === 'none' && safeUnquoted(value)) return value;
  if (preferred === 'double' && !/[$`"!]/.test(value)) return `"${value}"`;
  return `'${value}'`;
}

/**
 * Sets the values of `values`' keys and returns the new text; every other byte stays as it was
 * (comments, blank lines, order, `export `, quoting, CRLF, a missing final newline). A key set
 * twice is an error with file:line (which one would a reader take?); a key not yet in the file
 * is appended as `KEY=value`. The result is parsed again, so a bad edit can never be written.
 */
export function setDotenvValues(
  doc: EnvDocument,
  values: Record<string, string | { reveal(): string }>,
  file = '.env',
): string {
  const keys = Object.keys(values);
  const found = requireUniqueKeys(doc, keys, file);
  const plain = new Map(
    keys.map((key) => {
      const value = values[key]!;
      return [key, typeof value === 'string' ? value : value.reveal()] as const;
    }),
  );
  const edits = [...found.values()]
    .map((entry) => ({
      start: entry.valueStart,
      end: entry.valueEnd,
      text: quoteDotenvValue(plain.get(entry.key)!, entry.quote),
    }))
    .sort((a, b) => b.start - a.start);
  let text = doc.text;
  for (const edit of edits) text = text.slice(0, edit.start) + edit.text + text.slice(edit.end);
  const missing = keys.filter((key) => !found.has(key));
  if (missing.length > 0) {
    const lines = missing.map((key) => `${key}=${quoteDotenvValue(plain.get(key)!)}`);
    const endsWithNewline = text === '' || text.endsWith('\n');
    text = endsWithNewline
      ? `${text}${lines.map((line) => line + doc.eol).join('')}`
      : `${text}${lines.map((line) => doc.eol + line).join('')}`;
  }
  const check = parseDotenv(text, file);
  for (const [key, value] of plain) {
    if (envValue(check, key) !== value) {
      throw new SecretsError('env-edit', `internal error: ${key} would not read back as written; nothing was written`, {
        where: file,
      });
    }
  }
  return text;
}
