import { SecretsError } from './errors.js';

/**
 * A minimal POSIX ustar writer and reader, pure (bytes in, bytes out), so that a backup is one
 * OpenPGP message holding an ordinary tar: `gpg --decrypt x.tar.gpg | tar -x` opens it with no
 * tool of ours. Only regular files are written; the reader also understands the headers GNU tar
 * and bsdtar add (directories, pax `path=` records, GNU long names) so that a tar made by hand
 * and encrypted with gpg restores too.
 */

export interface TarEntry {
  /** Relative path inside the archive, `/`-separated. */
  name: string;
  data: Uint8Array;
  /** Permission bits; default 0o600. */
  mode?: number;
  /** Modification time; default the epoch (reproducible archives). */
  mtime?: Date;
}

const BLOCK = 512;
const encoder = new TextEncoder();
const decoder = new TextDecoder('utf-8', { fatal: false });

function writeString(block: Uint8Array, offset: number, length: number, text: string): void {
  const bytes = encoder.encode(text);
  if (bytes.length > length) throw new SecretsError('tar-field-too-long', `tar header field too long: ${text}`);
  block.set(bytes, offset);
}

function writeOctal(block: Uint8Array, offset: number, length: number, value: number): void {
  // length-1 octal digits then NUL, as ustar asks.
  const digits = Math.floor(value)
    .toString(8)
    .padStart(length - 1, '0');
  if (digits.length > length - 1) throw new SecretsError('tar-value-too-large', `tar header value too large: ${value}`);
  writeString(block, offset, length, `${digits}\0`);
}

/** Splits a long name into ustar's prefix (155 bytes) and name (100 bytes) at a `/`. */
function splitName(name: string): { prefix: string; name: string } {
  if (encoder.encode(name).length <= 100) return { prefix: '', name };
  for (let index = name.lastIndexOf('/'); index > 0; index = name.lastIndexOf('/', index - 1)) {
    const prefix = name.slice(0, index);
    const rest = name.slice(index + 1);
    if (encoder.encode(prefix).length <= 155 && encoder.encode(rest).length <= 100) return { prefix, name: rest };
  }
  throw new SecretsError('tar-name-too-long', `path too long for a tar archive: ${name}`);
}

function header(entry: TarEntry): Uint8Array {
  const block = new Uint8Array(BLOCK);
  const { prefix, name } = splitName(entry.name);
  writeString(block, 0, 100, name);
  writeOctal(block, 100, 8, entry.mode ?? 0o600);
  writeOctal(block, 108, 8, 0);
  writeOctal(block, 116, 8, 0);
  writeOctal(block, 124, 12, entry.data.length);
  writeOctal(block, 136, 12, Math.floor((entry.mtime?.getTime() ?? 0) / 1000));
  block.fill(0x20, 148, 156); // checksum is computed with its own field as spaces
  block[156] = 0x30; // '0': regular file
  writeString(block, 257, 6, 'ustar\0');
  writeString(block, 263, 2, '00');
  writeString(block, 345, 155, prefix);
  let sum = 0;
  for (const byte of block) sum += byte;
  writeString(block, 148, 8, `${sum.toString(8).padStart(6, '0')}\0 `);
  return block;
}

/** Builds a ustar archive of regular files, ending with the two zero blocks tar expects. */
export function writeTar(entries: TarEntry[]): Uint8Array {
  let total = 2 * BLOCK;
  for (const entry of entries) total += BLOCK + Math.ceil(entry.data.length / BLOCK) * BLOCK;
  const out = new Uint8Array(total);
  let offset = 0;
  for (const entry of entries) {
    out.set(header(entry), offset);
    offset += BLOCK;
    out.set(entry.data, offset);
    offset += Math.ceil(entry.data.length / BLOCK) * BLOCK;
  }
  return out;
}

function readString(block: Uint8Array, offset: number, length: number): string {
  const slice = block.subarray(offset, offset + length);
  const end = slice.indexOf(0);
  return decoder.decode(end === -1 ? slice : slice.subarray(0, end));
}

function readOctal(block: Uint8Array, offset: number, length: number): number {
  const text = readString(block, offset, length).trim();
  if (text === '') return 0;
  if (!/^[0-7]+$/.test(text)) throw new SecretsError('tar-corrupt', 'not a valid tar archive (bad number in a header)');
  return parseInt(text, 8);
}

function checksumMatches(block: Uint8Array): boolean {
  let sum = 0;
  for (let index = 0; index < BLOCK; index++) sum += index >= 148 && index < 156 ? 0x20 : block[index]!;
  const stored = readString(block, 148, 8).trim();
  return /^[0-7]+$/.test(stored) && parseInt(stored, 8) === sum;
}

/** Whether bytes start with a tar header (ustar magic or a valid old-style checksum). */
export function looksLikeTar(bytes: Uint8Array): boolean {
  if (bytes.length < BLOCK || bytes.length % BLOCK !== 0) return false;
  const first = bytes.subarray(0, BLOCK);
  return readString(first, 257, 5) === 'ustar' && checksumMatches(first);
}

function parsePax(data: Uint8Array): Record<string, string> {
  const records: Record<string, string> = {};
  const text = decoder.decode(data);
  let offset = 0;
  while (offset < text.length) {
    const space = text.indexOf(' ', offset);
    if (space === -1) break;
    const length = Number(text.slice(offset, space));
    if (!Number.isInteger(length) || length <= 0) break;
    const record = text.slice(space + 1, offset + length - 1);
    const equals = record.indexOf('=');
    if (equals > 0) records[record.slice(0, equals)] = record.slice(equals + 1);
    offset += length;
  }
  return records;
}

/**
 * Reads the regular files of a tar archive. Names are returned as stored; callers that write
 * them to disk must check them with `safeEntryName`. A truncated archive is an error.
 */
export function readTar(bytes: Uint8Array): TarEntry[] {
  const entries: TarEntry[] = [];
  let offset = 0;
  let longName: string | undefined;
  while (offset + BLOCK <= bytes.length) {
    const block = bytes.subarray(offset, offset + BLOCK);
    if (block.every((byte) => byte === 0)) return entries;
    if (!checksumMatches(block))
      throw new SecretsError('tar-corrupt', 'not a valid tar archive (header checksum mismatch)');
    const size = readOctal(block, 124, 12);
    const type = String.fromCharCode(block[156]!);
    const dataStart = offset + BLOCK;
    const dataEnd = dataStart + size;
    if (dataEnd > bytes.length) throw new SecretsError('tar-truncated', 'the tar archive is truncated');
    const data = bytes.slice(dataStart, dataEnd);
    offset = dataStart + Math.ceil(size / BLOCK) * BLOCK;
    if (type === 'x') {
      longName = parsePax(data).path ?? longName;
      continue;
    }
    if (type === 'L') {
      longName = readString(data, 0, data.length);
      continue;
    }
    if (type === 'g') continue;
    const prefix = readString(block, 345, 155);
    const name = longName ?? (prefix ? `${prefix}/${readString(block, 0, 100)}` : readString(block, 0, 100));
    longName = undefined;
    if (type !== '0' && type !== '\0' && type !== '7') continue; // directories, links, devices: not secret files
    entries.push({
      name,
      data,
      mode: readOctal(block, 100, 8) & 0o7777,
      mtime: new Date(readOctal(block, 136, 12) * 1000),
    });
  }
  if (offset === 0 && bytes.length === 0) return entries;
  throw new SecretsError('tar-truncated', 'the tar archive is truncated (no end marker)');
}

/**
 * The entry name as a safe relative path, or undefined when it would escape the folder it is
 * extracted into (absolute, `..`, empty): a backup made by someone holding only the public key
 * must not be able to write outside the restore folder.
 */
export function safeEntryName(name: string): string | undefined {
  const parts = name.split('/').filter((part) => part !== '' && part !== '.');
  if (name.startsWith('/') || parts.length === 0 || parts.some((part) => part === '..' || part.includes('\0')))
    return undefined;
  return parts.join('/');
}
