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
          throw new SecretsError('env-syntax', `unterminated ${quote}-quoted value of ${key}`, { where: `${file}:${startLine}` });
        }
        const char = text[index]!;
        if (char === first) break;
        if (quote === 'double' && char === '\\' && index + 1 < length) {
          const next = text[index + 1]!;
          result += next === 'n' ? '\n' : next === 'r' ? '\r' : next === 't' ? '\t' : next === '"' || next === '\\' ? next : `\\${next}`;
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
        throw new SecretsError('env-syntax', `unexpected text after the quoted value of ${key}`, { where: `${file}:${line}` });
      }
    } else {
      quote = 'none';
      const rest = text.slice(valueStart, end).replace(/\r$/, '');
      const comment = /\s+#/.exec(rest);
      const raw = (comment ? rest.slice(0, comment.index) : rest).replace(/\s+$/, '');
      value = raw;
      valueEnd = valueStart + raw.length;
      if (/\s/.test(raw) || raw.includes("'") || raw.includes('"') || raw.includes('`') || raw.includes('\\')) {
        throw new SecretsError('env-syntax', `the value of ${key} needs quotes: bash, dotenv and python-dotenv would each read it differently`, { where: `${file}:${startLine}` });
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
      throw new SecretsError('env-duplicate', `${entry.key} is set twice (also on line ${earlier.line}); remove one before rotating`, { where: `${file}:${entry.line}` });
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
