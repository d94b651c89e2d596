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

  constructor(value: string) {
    this.#value = value;
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
