import { createHmac } from 'node:crypto';

const inspectSymbol = Symbol.for('nodejs.util.inspect.custom');

/**
 * Masks a value for display: the first four and last four characters around an ellipsis
 * (`SECa1b2…09ff`). Short values show less, so that a mask never gives away most of a value.
 */
export function maskValue(value: string): string {
  if (value.length === 0) return '(empty)';
  if (value.length < 12) return `…(${value.length} chars)`;
  if (value.length < 20) return `${value.slice(0, 2)}…${value.slice(-2)}`;
  return `${value.slice(0, 4)}…${value.slice(-4)}`;
}

/**
 * A secret value. Printing it, interpolating it, JSON-encoding it or inspecting it gives the
 * masked form; `.reveal()` is the one explicit, greppable way to the real value.
 */
export class Secret {
  readonly #value: string;
  readonly #bytes: Uint8Array | undefined;

  /** `bytes`: the exact bytes when they are not the UTF-8 of `value` (a passphrase from the environment). */
  constructor(value: string, bytes?: Uint8Array) {
    this.#value = value;
    this.#bytes = bytes;
  }

  /**
   * A managed value, passphrase or new value: also remembered, so the CLI's output and the audit
   * trail mask it in any form (see maskRemembered). Values merely found (the scanner's) are
   * constructed plainly: `scan --reveal` must be able to show them.
   */
  static known(value: string, bytes?: Uint8Array): Secret {
    rememberValues([value]);
    return new Secret(value, bytes);
  }

  /** The value's bytes: as received, or the UTF-8 encoding of the text. */
  revealBytes(): Uint8Array {
    return this.#bytes ?? new TextEncoder().encode(this.#value);
  }

  reveal(): string {
    return this.#value;
  }

  get length(): number {
    return this.#value.length;
  }

  isEmpty(): boolean {
    return this.#value.length === 0;
  }

  equals(other: Secret): boolean {
    return this.#value === other.#value;
  }

  masked(): string {
    return maskValue(this.#value);
  }

  toString(): string {
    return this.masked();
  }

  toJSON(): string {
    return this.masked();
  }

  [inspectSymbol](): string {
    return `Secret(${this.masked()})`;
  }
}

/**
 * A fingerprint identifies a value in the audit trail without revealing it. It is keyed with
 * the state folder's fingerprint key (HMAC-SHA256), so that an audit trail shipped to a log
 * system cannot be used to test guesses of a short password offline.
 */
export function fingerprint(value: Secret | string, key: Uint8Array): string {
  const text = typeof value === 'string' ? value : value.reveal();
  return `hmac-sha256:${createHmac('sha256', key).update(text, 'utf8').digest('hex').slice(0, 32)}`;
}

/** The same keyed fingerprint over raw bytes (a whole file's content); equal to fingerprint() for UTF-8 text. */
export function fingerprintBytes(data: Uint8Array, key: Uint8Array): string {
  return `hmac-sha256:${createHmac('sha256', key).update(data).digest('hex').slice(0, 32)}`;
}

/** Prefixes after which the rest of a value is itself secret (DingTalk's `SEC…` signing secrets). */
const KNOWN_PREFIXES = ['SEC'];
/** Shorter strings are not masked on their own: they would mask ordinary words. */
const MIN_MASKED = 8;

/**
 * The forms a value can appear in besides itself: every URL query value (the bare
 * `access_token`), the part after a known prefix, and its upper- and lower-case variants (a JWT
 * upper-cased in a log). Each form of 8 characters or more.
 */
export function derivedForms(value: string): string[] {
  const forms = new Set<string>([value]);
  const query = value.indexOf('?');
  if (/^[a-z][a-z0-9+.-]*:\/\//i.test(value) && query !== -1)
    for (const part of value.slice(query + 1).split(/[&#]/)) {
      const equals = part.indexOf('=');
      if (equals !== -1) {
        const raw = part.slice(equals + 1);
        forms.add(raw);
        try {
          forms.add(decodeURIComponent(raw));
        } catch {
          // not percent-encoded text: the raw form is enough
        }
      }
    }
  for (const prefix of KNOWN_PREFIXES) if (value.startsWith(prefix)) forms.add(value.slice(prefix.length));
  for (const form of [...forms]) {
    forms.add(form.toUpperCase());
    forms.add(form.toLowerCase());
  }
  return [...forms].filter((form) => form.length >= MIN_MASKED).sort((a, b) => b.length - a.length);
}

/** Replaces every derived form of every value in `text` with its mask (longest forms first). */
export function maskKnown(text: string, values: Iterable<string>): string {
  let out = text;
  for (const value of values)
    for (const form of derivedForms(value)) if (out.includes(form)) out = out.split(form).join(maskValue(form));
  return out;
}

/**
 * Values this process has seen as secrets (every Secret, and the managed values it read), so
 * the last line of defence — the CLI's output and the audit trail — can mask them in any form.
 * Held in memory only, for the life of the process.
 */
const remembered = new Set<string>();

export function rememberValues(values: Iterable<string>): void {
  for (const value of values) if (value.length >= MIN_MASKED) remembered.add(value);
}

export function maskRemembered(text: string): string {
  return remembered.size === 0 ? text : maskKnown(text, remembered);
}
