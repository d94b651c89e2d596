/**
 * Checksums some providers build into their tokens, so that a rule can tell a token the provider
 * issued from one with a character wrong (a typo, a redaction, a hand-made fake).
 *
 * GitHub's token format of 2021 (`ghp_`, `gho_`, `ghu_`, `ghs_`, `ghr_`) and npm's (`npm_`) share
 * one scheme: the 36 characters after the prefix are 30 random base62 characters and then the
 * CRC32 of those 30, written in base62 (0-9, A-Z, a-z) and padded on the left with zeros to 6.
 */

const BASE62 = '0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz';

const CRC_TABLE = (() => {
  const table = new Uint32Array(256);
  for (let n = 0; n < 256; n++) {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
    table[n] = c >>> 0;
  }
  return table;
})();

/** CRC32 (IEEE, as zlib computes it) of an ASCII string. */
export function crc32(text: string): number {
  let crc = 0xffffffff;
  for (let i = 0; i < text.length; i++) crc = CRC_TABLE[(crc ^ text.charCodeAt(i)) & 0xff]! ^ (crc >>> 8);
  return (crc ^ 0xffffffff) >>> 0;
}

/** `value` in base62, left-padded with zeros to `width`. */
export function base62(value: number, width = 6): string {
  let out = '';
  for (let rest = value; rest > 0; rest = Math.floor(rest / 62)) out = BASE62[rest % 62]! + out;
  return out.padStart(width, '0');
}

/** Whether a 36-character token body is 30 characters followed by their base62 CRC32. */
export function hasBase62Crc32(body: string): boolean {
  if (body.length !== 36) return false;
  return base62(crc32(body.slice(0, 30))) === body.slice(30);
}

const CHECKSUMMED = /^(?:gh[pousr]|npm)_([A-Za-z0-9]{36})$/;

/**
 * True when `value` has the shape of a checksummed GitHub or npm token and its checksum fails:
 * no token the provider issued looks like that (a character was changed, or it was made by hand).
 * False for anything else, including values the scheme does not cover (longer GitHub app tokens).
 */
export function checksumFails(value: string): boolean {
  const body = CHECKSUMMED.exec(value)?.[1];
  return body !== undefined && !hasBase62Crc32(body);
}

/** A valid 36-character checksummed body (for fakes built at run time): 30 random characters and their CRC. */
export function withBase62Crc32(random30: string): string {
  return random30 + base62(crc32(random30));
}

/**
 * PyPI's upload tokens are `pypi-` and a macaroon (version 2 binary) in base64url: a header of
 * fields (location, identifier) ended by a zero byte, caveats, and last a 32-byte signature.
 * True when the header reads whole and enough bytes follow it to hold that signature; a token
 * cut short (copied in part, truncated in a log) does not.
 */
export function macaroonHoldsSignature(token: string): boolean {
  const bytes = Buffer.from(token.replace(/^pypi-/, ''), 'base64url');
  let at = 0;
  const varint = (): number | undefined => {
    let value = 0;
    for (let shift = 0; shift < 28; shift += 7) {
      const byte = bytes[at++];
      if (byte === undefined) return undefined;
      value |= (byte & 0x7f) << shift;
      if ((byte & 0x80) === 0) return value;
    }
    return undefined;
  };
  if (bytes[at++] !== 2) return false;
  for (;;) {
    const type = varint();
    if (type === undefined) return false;
    if (type === 0) break;
    const length = varint();
    if (length === undefined || at + length > bytes.length) return false;
    at += length;
  }
  // The signature field: its type, its length (32) and 32 bytes.
  return bytes.length - at >= 34;
}
