import type { Fragment } from './types.js';

/** Marks a commit header in the history stream: `\x01<hash>\x1f<author>\x1f<ISO date>`. */
export const COMMIT_MARKER = '\u0001';
export const FIELD_SEPARATOR = '\u001f';
/** The --format that produces the commit header lines above. */
export const COMMIT_FORMAT = '%x01%H%x1f%an <%ae>%x1f%aI';

/** Above this many characters a file's added lines are handed on in pieces, to keep memory flat. */
const MAX_FRAGMENT_CHARS = 4 * 1024 * 1024;
const INITIAL_BUFFER = 64 * 1024;

const NEWLINE = 10;
const CR = 13;
const PLUS = 43;
const MINUS = 45;
const SPACE = 32;
const BACKSLASH = 92;
const DIFF_GIT = Buffer.from('diff --git ');
const DIFF_CC = Buffer.from('diff --cc ');
const DIFF_COMBINED = Buffer.from('diff --combined ');
const NEW_FILE = Buffer.from('+++ ');
const HUNK = Buffer.from('@@');

/** Whether bytes[start, end) begins with `prefix`. */
function startsWith(bytes: Uint8Array, start: number, end: number, prefix: Uint8Array): boolean {
  if (end - start < prefix.length) return false;
  for (let i = 0; i < prefix.length; i++) if (bytes[start + i] !== prefix[i]) return false;
  return true;
}

/**
 * Turns the bytes of `git log -p -U0` (or `git diff -U0`) into fragments holding only the
 * added lines of each file, with their line numbers in the new version. Deleted files and
 * removed lines yield nothing (a deletion is not a leak). For merge commits shown with --cc,
 * only lines the merge itself introduced (`+` against every parent) count: the others were
 * added, and scanned, in the commits that brought them.
 *
 * It reads bytes, not text: a history scan's node CPU went mostly into decoding, slicing and
 * dispatching every line git printed, while only `+` lines and a few header lines are ever
 * read. A line is found with indexOf on the chunk and judged by its first byte; added lines
 * are decoded (as UTF-8) once per file, and only the few header lines the parser needs are
 * decoded on their own. Every check is on an ASCII prefix, so it reads the same on bytes as on
 * the decoded text.
 */
export class DiffParser {
  readonly #emit: (fragment: Fragment) => void;
  readonly #onCommit: (() => void) | undefined;
  #commit: { hash: string; author: string; date: string } | undefined;
  #file: string | undefined;
  #inHeader = false;
  #parents = 1;
  #newLine = 0;
  #numbers: number[] = [];
  /** The added lines' bytes, newline-separated, while their size stays under the limit. */
  #buffer = Buffer.allocUnsafe(INITIAL_BUFFER);
  #used = 0;
  /** Their size as the limit counts it (a newline per line, CRs included) in bytes. */
  #bytes = 0;
  #crs = 0;
  /** Once the bytes pass the limit: the lines decoded, and their exact size in characters. */
  #lines: string[] | undefined;
  #chars = 0;
  /** The start of a line that the last chunk did not finish. */
  #partial: Buffer[] = [];

  /** `onCommit` is told of each commit header as the stream reaches it (progress). */
  constructor(emit: (fragment: Fragment) => void, onCommit?: () => void) {
    this.#emit = emit;
    this.#onCommit = onCommit;
  }

  /** Called with each chunk of the stream as it comes; lines may span chunks. */
  write(chunk: Buffer): void {
    let start = 0;
    let at = chunk.indexOf(NEWLINE);
    if (at === -1) {
      if (chunk.length > 0) this.#partial.push(chunk);
      return;
    }
    if (this.#partial.length > 0) {
      // Joined once, when its end arrives: a long line costs its length, not chunks × length.
      this.#partial.push(chunk.subarray(0, at));
      const line = Buffer.concat(this.#partial);
      this.#partial = [];
      this.#line(line, 0, line.length);
      start = at + 1;
      at = chunk.indexOf(NEWLINE, start);
    }
    for (; at !== -1; at = chunk.indexOf(NEWLINE, start)) {
      this.#line(chunk, start, at);
      start = at + 1;
    }
    if (start < chunk.length) this.#partial.push(chunk.subarray(start));
  }

  /** The end of the stream: a last line without its newline, then what is collected. */
  end(): void {
    if (this.#partial.length > 0) {
      const line = Buffer.concat(this.#partial);
      this.#partial = [];
      this.#line(line, 0, line.length);
    }
    this.flush();
  }

  /** One line, bytes[start, end), without its newline. */
  #line(bytes: Buffer, start: number, end: number): void {
    const first = end > start ? bytes[start]! : -1;
    if (!this.#inHeader && this.#file !== undefined) {
      if (first === PLUS && this.#parents === 1) {
        this.#add(bytes, start + 1, end);
        return;
      }
      if (first === MINUS) return;
      if (first === SPACE && this.#parents === 1) {
        this.#newLine++;
        return;
      }
      if ((first === PLUS || first === SPACE) && this.#parents > 1) {
        // A merge's line: the first `parents` columns say against which parents it is new.
        const line = bytes.toString('utf8', start, end);
        const prefix = line.slice(0, this.#parents);
        if (!prefix.includes('-')) {
          if (!prefix.includes(' ')) this.#addText(line.slice(this.#parents));
          else this.#newLine++;
        }
        return;
      }
      if (first === BACKSLASH /* \ No newline at end of file */) return;
    }
    if (first === 1) {
      this.flush();
      const [hash = '', author = '', date = ''] = bytes.toString('utf8', start + 1, end).split(FIELD_SEPARATOR);
      this.#commit = { hash, author, date };
      this.#file = undefined;
      this.#onCommit?.();
      return;
    }
    if (startsWith(bytes, start, end, DIFF_GIT)) {
      this.flush();
      this.#file = undefined;
      this.#parents = 1;
      this.#inHeader = true;
      return;
    }
    if (startsWith(bytes, start, end, DIFF_CC) || startsWith(bytes, start, end, DIFF_COMBINED)) {
      this.flush();
      const line = bytes.toString('utf8', start, end);
      this.#file = unquotePath(line.slice(line.indexOf(' ', 5) + 1));
      this.#parents = 2;
      this.#inHeader = true;
      return;
    }
    if (this.#inHeader && startsWith(bytes, start, end, NEW_FILE)) {
      // git ends the name with a TAB when it holds a space (so that patch can tell where it ends).
      const line = bytes.toString('utf8', start, end);
      const target = line.endsWith('\t') ? line.slice(4, -1) : line.slice(4);
      this.#file = target === '/dev/null' ? undefined : stripPrefix(unquotePath(target));
      return;
    }
    if (startsWith(bytes, start, end, HUNK)) {
      const plain = plainHunk(bytes, start, end);
      if (plain) {
        this.#parents = plain.ats - 1;
        this.#newLine = plain.line;
        this.#inHeader = false;
        return;
      }
      const at = /^(@{2,}) (?:-\S+ )+\+(\d+)/.exec(bytes.toString('utf8', start, end));
      if (at) {
        this.#parents = at[1]!.length - 1;
        this.#newLine = Number(at[2]);
        this.#inHeader = false;
      }
      return;
    }
  }

  /**
   * An added line of a plain diff, bytes[start, end) after its `+`. Its bytes are copied after
   * the file's other added lines and the lot is decoded once, when handed on: one decoding per
   * file instead of one per line (the same text, as no UTF-8 sequence spans a newline). The
   * size limit is on decoded characters; a character takes at least a byte, so while the bytes
   * stay under the limit the characters do too, and only a file whose added bytes pass it is
   * decoded line by line to count its characters exactly.
   */
  #add(bytes: Buffer, start: number, end: number): void {
    // A CRLF file's lines keep their CR in the diff: dropped here, but counted in the size.
    const cr = end > start && bytes[end - 1] === CR ? 1 : 0;
    if (this.#lines === undefined) {
      const size = end - start + 1;
      if (this.#bytes + size <= MAX_FRAGMENT_CHARS) {
        this.#append(bytes, start, end - cr);
        this.#bytes += size;
        this.#crs += cr;
        this.#numbers.push(this.#newLine++);
        return;
      }
      this.#decodeAll();
    }
    const text = bytes.toString('utf8', start, end - cr);
    this.#push(text, text.length + cr);
  }

  /** An added line of a merge, already decoded. */
  #addText(text: string): void {
    if (this.#lines === undefined) this.#decodeAll();
    const cr = text.endsWith('\r') ? 1 : 0;
    this.#push(cr ? text.slice(0, -1) : text, text.length);
  }

  /** Copies bytes[start, end) after the added lines held, a newline between. */
  #append(bytes: Buffer, start: number, end: number): void {
    const needed = this.#used + (this.#numbers.length > 0 ? 1 : 0) + (end - start);
    if (needed > this.#buffer.length) {
      const grown = Buffer.allocUnsafe(Math.max(needed, 2 * this.#buffer.length));
      this.#buffer.copy(grown, 0, 0, this.#used);
      this.#buffer = grown;
    }
    const buffer = this.#buffer;
    let at = this.#used;
    if (this.#numbers.length > 0) buffer[at++] = NEWLINE;
    // Most added lines are short: a loop costs less than a call into the runtime.
    if (end - start < 64) for (let i = start; i < end; i++) buffer[at++] = bytes[i]!;
    else at += bytes.copy(buffer, at, start, end);
    this.#used = at;
  }

  /** From collected bytes to decoded lines, with their exact size in characters. */
  #decodeAll(): void {
    this.#lines = [];
    this.#chars = 0;
    if (this.#numbers.length > 0) {
      const text = this.#buffer.toString('utf8', 0, this.#used);
      this.#lines.push(text);
      // Each line's characters, its CR, its newline: the newlines between are in the text.
      this.#chars = text.length + 1 + this.#crs;
    }
    this.#resetBytes();
  }

  #resetBytes(): void {
    this.#used = 0;
    this.#bytes = 0;
    this.#crs = 0;
    // One huge file's lines do not keep their buffer for the rest of the history.
    if (this.#buffer.length > INITIAL_BUFFER) this.#buffer = Buffer.allocUnsafe(INITIAL_BUFFER);
  }

  #push(text: string, length: number): void {
    // Not adjacent to the previous added line: still the same fragment, the line map keeps places.
    this.#lines!.push(text);
    this.#numbers.push(this.#newLine++);
    this.#chars += length + 1;
    if (this.#chars > MAX_FRAGMENT_CHARS) this.flush();
  }

  /** Hands on the added lines collected so far (end of a file, a commit, or the stream). */
  flush(): void {
    const numbers = this.#numbers;
    const text =
      numbers.length === 0 || this.#file === undefined
        ? undefined
        : this.#lines === undefined
          ? this.#buffer.toString('utf8', 0, this.#used)
          : this.#lines.join('\n');
    this.#lines = undefined;
    this.#chars = 0;
    this.#numbers = [];
    this.#resetBytes();
    if (text === undefined) return;
    const fragment: Fragment = { text, file: this.#file!, lineNumbers: numbers };
    if (this.#commit) {
      fragment.commit = this.#commit.hash;
      fragment.author = this.#commit.author;
      fragment.date = this.#commit.date;
    }
    this.#emit(fragment);
  }
}

/**
 * A hunk header's count of `@` and the first line of its new side (`@@ -1,2 +3,4 @@`, or
 * `@@@ -1 -1 +1,2 @@@` for a merge), read from the bytes when they have the plain shape git
 * prints; otherwise undefined, and the caller asks the regex, which reads the same thing.
 */
function plainHunk(bytes: Uint8Array, start: number, end: number): { ats: number; line: number } | undefined {
  let i = start;
  while (i < end && bytes[i] === 64 /* @ */) i++;
  const ats = i - start;
  if (ats < 2 || i >= end || bytes[i] !== SPACE) return undefined;
  i++;
  let ranges = 0;
  while (i < end && bytes[i] === MINUS) {
    const from = ++i;
    while (i < end && ((bytes[i]! >= 48 && bytes[i]! <= 57) || bytes[i] === 44)) i++;
    if (i === from || i >= end || bytes[i] !== SPACE) return undefined;
    i++;
    ranges++;
  }
  if (ranges === 0 || i >= end || bytes[i] !== PLUS) return undefined;
  const from = ++i;
  let line = 0;
  while (i < end && bytes[i]! >= 48 && bytes[i]! <= 57) line = line * 10 + (bytes[i++]! - 48);
  // Past 15 digits a double may round: the regex and Number() then say what it is.
  if (i === from || i - from > 15) return undefined;
  return { ats, line };
}

function stripPrefix(path: string): string {
  return path.startsWith('b/') ? path.slice(2) : path;
}

/** Git quotes paths holding special characters as C strings: "dir/a\tb". */
export function unquotePath(path: string): string {
  if (!path.startsWith('"') || !path.endsWith('"')) return path;
  const body = path.slice(1, -1);
  const bytes: number[] = [];
  for (let i = 0; i < body.length; i++) {
    const char = body[i]!;
    if (char !== '\\') {
      for (const byte of Buffer.from(char, 'utf8')) bytes.push(byte);
      continue;
    }
    const next = body[++i] ?? '';
    if (/[0-7]/.test(next)) {
      bytes.push(parseInt(body.slice(i, i + 3), 8));
      i += 2;
    } else {
      const escapes: Record<string, number> = { n: 10, t: 9, r: 13, '"': 34, '\\': 92, a: 7, b: 8, f: 12, v: 11 };
      bytes.push(escapes[next] ?? next.charCodeAt(0));
    }
  }
  return Buffer.from(bytes).toString('utf8');
}
