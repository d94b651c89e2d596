/**
 * Finds which of many keywords occur in a text in one pass (Aho-Corasick over ASCII), instead
 * of one substring search per keyword: with a few hundred keywords that is the difference
 * between reading the text once and reading it a few hundred times.
 */
export class KeywordMatcher {
  readonly keywords: readonly string[];
  /** next[state * 128 + char]: the automaton's transitions, failure links folded in. */
  readonly #next: Int32Array;
  /** For each state, the keywords that end there (through failure links too). */
  readonly #outputs: number[][];
  /** Per keyword, the call of foundIn that last met it: found once per call without clearing. */
  readonly #seen: Uint32Array;
  #call = 0;

  constructor(keywords: readonly string[]) {
    this.keywords = keywords;
    const children: Array<Map<number, number>> = [new Map()];
    const outputs: number[][] = [[]];
    keywords.forEach((keyword, index) => {
      let state = 0;
      for (let i = 0; i < keyword.length; i++) {
        const code = keyword.charCodeAt(i);
        if (code >= 128) return; // non-ASCII keywords never match here; none are used
        let next = children[state]!.get(code);
        if (next === undefined) {
          next = children.length;
          children.push(new Map());
          outputs.push([]);
          children[state]!.set(code, next);
        }
        state = next;
      }
      outputs[state]!.push(index);
    });
    const count = children.length;
    const next = new Int32Array(count * 128);
    const fail = new Int32Array(count);
    const queue: number[] = [];
    for (let code = 0; code < 128; code++) {
      const child = children[0]!.get(code);
      next[code] = child ?? 0;
      if (child !== undefined) queue.push(child);
    }
    for (let head = 0; head < queue.length; head++) {
      const state = queue[head]!;
      outputs[state]!.push(...outputs[fail[state]!]!);
      for (let code = 0; code < 128; code++) {
        const child = children[state]!.get(code);
        if (child === undefined) {
          next[state * 128 + code] = next[fail[state]! * 128 + code]!;
        } else {
          fail[child] = next[fail[state]! * 128 + code]!;
          next[state * 128 + code] = child;
          queue.push(child);
        }
      }
    }
    this.#next = next;
    this.#outputs = outputs;
    this.#seen = new Uint32Array(keywords.length);
  }

  /**
   * The ids of the keywords that occur in `text` read in lower case, each once, or undefined when
   * `text` holds a character above 127. ASCII letters are folded on the fly, which for ASCII text
   * is exactly what toLowerCase() does: most text then needs no lowercased copy at all (the
   * caller makes one only for a rule it wakes). Non-ASCII text is the caller's to lowercase, as
   * toLowerCase() can turn some non-ASCII letters into ASCII ones (the Kelvin sign into k).
   * A list rather than a flag per keyword: a history scan asks about tens of thousands of small
   * texts, each holding a few keywords of a few hundred.
   */
  foundIn(text: string): number[] | undefined {
    const next = this.#next;
    let state = 0;
    for (let i = 0; i < text.length; i++) {
      let code = text.charCodeAt(i);
      if (code >= 128) return undefined;
      if (code >= 65 && code <= 90) code += 32;
      state = next[state * 128 + code]!;
      if (state !== 0 && this.#outputs[state]!.length > 0) return this.#collect(text, i + 1, state);
    }
    return [];
  }

  /** Goes on from `state` at `from` once a first keyword ended there: records every keyword met. */
  #collect(text: string, from: number, start: number): number[] | undefined {
    const next = this.#next;
    const outputs = this.#outputs;
    const seen = this.#seen;
    const call = (this.#call = (this.#call + 1) >>> 0 || 1);
    if (call === 1) seen.fill(0);
    const found: number[] = [];
    let state = start;
    for (let i = from; ; i++) {
      const ends = outputs[state]!;
      for (let k = 0; k < ends.length; k++) {
        const id = ends[k]!;
        if (seen[id] !== call) {
          seen[id] = call;
          found.push(id);
        }
      }
      if (i >= text.length) return found;
      let code = text.charCodeAt(i);
      if (code >= 128) return undefined;
      if (code >= 65 && code <= 90) code += 32;
      state = next[state * 128 + code]!;
    }
  }

  /** The ids of the keywords that occur in `lower` (already lowercased), each once. */
  foundInLower(lower: string): number[] {
    const present = this.present(lower);
    const found: number[] = [];
    for (let id = 0; id < present.length; id++) if (present[id] === 1) found.push(id);
    return found;
  }

  /** A flag per keyword: 1 when it occurs in `lower` (already lowercased). */
  present(lower: string): Uint8Array {
    const found = new Uint8Array(this.keywords.length);
    const next = this.#next;
    const outputs = this.#outputs;
    let state = 0;
    for (let i = 0; i < lower.length; i++) {
      const code = lower.charCodeAt(i);
      state = code < 128 ? next[state * 128 + code]! : 0;
      if (state !== 0) {
        const ends = outputs[state]!;
        for (let k = 0; k < ends.length; k++) found[ends[k]!] = 1;
      }
    }
    return found;
  }

  /**
   * Whether any keyword may occur in these bytes, read as text, without decoding them: ASCII
   * letters are folded to lower case on the fly. A byte above 127 answers yes at once, because
   * the decoded text's toLowerCase() can turn some non-ASCII letters into ASCII ones (the Kelvin
   * sign into k): only pure ASCII can be ruled out this way.
   */
  mayOccurIn(bytes: Uint8Array): boolean {
    const next = this.#next;
    const outputs = this.#outputs;
    let state = 0;
    for (let i = 0; i < bytes.length; i++) {
      let code = bytes[i]!;
      if (code >= 128) return true;
      if (code >= 65 && code <= 90) code += 32;
      state = next[state * 128 + code]!;
      if (state !== 0 && outputs[state]!.length > 0) return true;
    }
    return false;
  }
}
