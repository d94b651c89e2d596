/** Git's own test: a NUL byte in the first 8000 bytes makes a file binary. */
export function looksBinary(bytes: Uint8Array): boolean {
  const end = Math.min(bytes.length, 8000);
  for (let i = 0; i < end; i++) if (bytes[i] === 0) return true;
  return false;
}

/**
 * Which UTF-16 byte order a file is in, if it is UTF-16 text: by its byte-order mark, or (files
 * Windows tools write without one) by NULs in every high byte and none in the low ones of the
 * first 8000 bytes. Such a file holds NULs and would otherwise be skipped as binary.
 */
export function utf16Order(bytes: Uint8Array): 'le' | 'be' | undefined {
  if (bytes.length >= 2 && bytes[0] === 0xff && bytes[1] === 0xfe) return 'le';
  if (bytes.length >= 2 && bytes[0] === 0xfe && bytes[1] === 0xff) return 'be';
  const end = Math.min(bytes.length, 8000) & ~1;
  if (end < 4) return undefined;
  let evenZeros = 0;
  let oddZeros = 0;
  for (let i = 0; i < end; i += 2) {
    if (bytes[i] === 0) evenZeros++;
    if (bytes[i + 1] === 0) oddZeros++;
  }
  const pairs = end / 2;
  if (evenZeros === 0 && oddZeros >= pairs * 0.7) return 'le';
  if (oddZeros === 0 && evenZeros >= pairs * 0.7) return 'be';
  return undefined;
}

/** The file's text (UTF-8, or UTF-16 decoded, byte-order mark dropped), or undefined when it is binary. */
export function decodeText(bytes: Uint8Array): string | undefined {
  const buffer = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  if (!looksBinary(bytes)) {
    const text = buffer.toString('utf8');
    return text.charCodeAt(0) === 0xfeff ? text.slice(1) : text;
  }
  const order = utf16Order(bytes);
  if (!order) return undefined;
  const even = buffer.subarray(0, buffer.length & ~1);
  const text = order === 'le' ? even.toString('utf16le') : Buffer.from(even).swap16().toString('utf16le');
  return text.charCodeAt(0) === 0xfeff ? text.slice(1) : text;
}
