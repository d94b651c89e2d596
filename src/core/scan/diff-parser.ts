import type { Fragment } from './types.js';

/** Marks a commit header in the history stream: `\x01<hash>\x1f<author>\x1f<ISO date>`. */
export const COMMIT_MARKER = '\u0001';
export const FIELD_SEPARATOR = '\u001f';
/** The --format that produces the commit header lines above. */
export const COMMIT_FORMAT = '%x01%H%x1f%an <%ae>%x1f%aI';

/** Above this many characters a file's added lines are handed on in pieces, to keep memory flat. */
const MAX_FRAGMENT_CHARS = 4 * 1024 * 1024;

/**
 * Turns the lines of `git log -p -U0` (or `git diff -U0`) into fragments holding only the
 * added lines of each file, with their line numbers in the new version. Deleted files and
 * removed lines yield nothing (a deletion is not a leak). For merge commits shown with --cc,
 * only lines the merge itself introduced (`+` against every parent) count: the others were
 * added, and scanned, in the commits that brought them.
 */
export class DiffParser {
  readonly #emit: (fragment: Fragment) => void;
  #commit: { hash: string; author: string; date: string } | undefined;
  #file: string | undefined;
  #inHeader = false;
  #parents = 1;
  #newLine = 0;
  #lines: string[] = [];
  #numbers: number[] = [];
  #chars = 0;

  constructor(emit: (fragment: Fragment) => void) {
    this.#emit = emit;
  }

  /** Called with each line of the stream, without its newline. */
  line(line: string): void {
    const first = line.charCodeAt(0);
    if (!this.#inHeader && this.#file !== undefined) {
      if (first === 43 /* + */ && this.#parents === 1) {
        this.#add(line.slice(1));
        return;
      }
      if (first === 45 /* - */) return;
      if (first === 32 /* space */ && this.#parents === 1) {
        this.#newLine++;
        return;
      }
      if ((first === 43 || first === 32 || first === 45) && this.#parents > 1) {
        const prefix = line.slice(0, this.#parents);
        if (!prefix.includes('-')) {
          if (!prefix.includes(' ')) this.#add(line.slice(this.#parents));
          else this.#newLine++;
        }
        return;
      }
      if (first === 92 /* \ No newline at end of file */) return;
    }
    if (first === 1) {
      this.flush();
      const [hash = '', author = '', date = ''] = line.slice(1).split(FIELD_SEPARATOR);
      this.#commit = { hash, author, date };
      this.#file = undefined;
      return;
    }
    if (line.startsWith('diff --git ')) {
      this.flush();
      this.#file = undefined;
      this.#parents = 1;
      this.#inHeader = true;
      return;
    }
    if (line.startsWith('diff --cc ') || line.startsWith('diff --combined ')) {
      this.flush();
      this.#file = unquotePath(line.slice(line.indexOf(' ', 5) + 1));
      this.#parents = 2;
      this.#inHeader = true;
      return;
    }
    if (this.#inHeader && line.startsWith('+++ ')) {
      // git ends the name with a TAB when it holds a space (so that patch can tell where it ends).
      const target = line.endsWith('\t') ? line.slice(4, -1) : line.slice(4);
      this.#file = target === '/dev/null' ? undefined : stripPrefix(unquotePath(target));
      return;
    }
    if (line.startsWith('@@')) {
      const at = /^(@{2,}) (?:-\S+ )+\+(\d+)/.exec(line);
      if (at) {
        this.#parents = at[1]!.length - 1;
        this.#newLine = Number(at[2]);
        this.#inHeader = false;
      }
      return;
    }
  }

  #add(text: string): void {
    const line = this.#newLine++;
    // Not adjacent to the previous added line: still the same fragment, the line map keeps places.
    this.#lines.push(text.endsWith('\r') ? text.slice(0, -1) : text);
    this.#numbers.push(line);
    this.#chars += text.length + 1;
    if (this.#chars > MAX_FRAGMENT_CHARS) this.flush();
  }

  /** Hands on the added lines collected so far (end of a file, a commit, or the stream). */
  flush(): void {
    if (this.#lines.length === 0 || this.#file === undefined) {
      this.#lines = [];
      this.#numbers = [];
      this.#chars = 0;
      return;
    }
    const fragment: Fragment = { text: this.#lines.join('\n'), file: this.#file, lineNumbers: this.#numbers };
    if (this.#commit) {
      fragment.commit = this.#commit.hash;
      fragment.author = this.#commit.author;
      fragment.date = this.#commit.date;
    }
    this.#lines = [];
    this.#numbers = [];
    this.#chars = 0;
    this.#emit(fragment);
  }
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
