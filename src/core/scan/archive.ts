import { gunzipSync, inflateRawSync } from 'node:zlib';
import { readTar } from '../tar.js';

/**
 * Opening the archives a scan meets in the tree (`.zip`, `.jar`, `.tar`, `.tar.gz`/`.tgz`, `.gz`),
 * pure: bytes in, members out. A leaked key shipped inside a build artefact or a vendored bundle
 * is as leaked as one in a source file, and a binary archive would otherwise only be counted.
 *
 * An archive is untrusted input: inflating is capped (total bytes, member count, nesting depth)
 * so that a zip bomb costs a bounded amount of memory and is reported, never followed.
 */

export interface ArchiveLimits {
  /** Bytes inflated in total for one archive in the tree, nested archives included. */
  maxInflated: number;
  /** Members opened in total for one archive in the tree. */
  maxMembers: number;
  /** Archives inside archives: 1 opens only the archive in the tree. */
  maxDepth: number;
}

export type ArchiveKind = 'zip' | 'tar' | 'tgz' | 'gz';

/** Which archive format a name says, by its extension (case-insensitive). */
export function archiveKind(name: string): ArchiveKind | undefined {
  const lower = name.toLowerCase();
  if (/\.(zip|jar|war|ear|apk|whl|nupkg)$/.test(lower)) return 'zip';
  if (lower.endsWith('.tar')) return 'tar';
  if (lower.endsWith('.tar.gz') || lower.endsWith('.tgz')) return 'tgz';
  if (lower.endsWith('.gz')) return 'gz';
  return undefined;
}

export interface ArchiveMember {
  /** `outer.zip!inner/path.py`, `outer.zip!inner.tgz!a/b.env` for nested archives. */
  name: string;
  data: Uint8Array;
}

export interface ArchiveSkip {
  /** The archive (or nested archive, `outer.zip!inner.zip`) not opened or not fully opened. */
  file: string;
  reason: string;
}

export interface OpenedArchive {
  members: ArchiveMember[];
  skipped: ArchiveSkip[];
}

/** Why an archive could not be read; the message is the skipped reason. */
class ArchiveError extends Error {}

/** Shared by every archive nested in one archive of the tree: the limits are totals. */
interface Budget {
  inflated: number;
  members: number;
}

const ZIP_END = 0x06054b50;
const ZIP_CENTRAL = 0x02014b50;
const ZIP_LOCAL = 0x04034b50;

function view(bytes: Uint8Array): DataView {
  return new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
}

/** The members of a zip, read through its central directory (the authoritative list). */
function readZip(
  bytes: Uint8Array,
  budget: Budget,
  limits: ArchiveLimits,
  take: (name: string, data: Uint8Array) => void,
) {
  const data = view(bytes);
  // The end record sits in the last 22 bytes plus a comment of at most 65535.
  let end = -1;
  for (let at = bytes.length - 22; at >= Math.max(0, bytes.length - 22 - 65535); at--) {
    if (data.getUint32(at, true) === ZIP_END) {
      end = at;
      break;
    }
  }
  if (end < 0) throw new ArchiveError('not a valid zip archive (no end of central directory)');
  const count = data.getUint16(end + 10, true);
  const directoryOffset = data.getUint32(end + 16, true);
  if (directoryOffset === 0xffffffff || count === 0xffff) throw new ArchiveError('zip64 archives are not opened');
  let at = directoryOffset;
  const decoder = new TextDecoder('utf-8');
  for (let index = 0; index < count; index++) {
    if (at + 46 > bytes.length || data.getUint32(at, true) !== ZIP_CENTRAL)
      throw new ArchiveError('not a valid zip archive (central directory damaged)');
    const flags = data.getUint16(at + 8, true);
    const method = data.getUint16(at + 10, true);
    const compressedSize = data.getUint32(at + 20, true);
    const nameLength = data.getUint16(at + 28, true);
    const extraLength = data.getUint16(at + 30, true);
    const commentLength = data.getUint16(at + 32, true);
    const localOffset = data.getUint32(at + 42, true);
    const name = decoder.decode(bytes.subarray(at + 46, at + 46 + nameLength));
    at += 46 + nameLength + extraLength + commentLength;
    if (name.endsWith('/')) continue; // a folder
    if (++budget.members > limits.maxMembers)
      throw new ArchiveError(`more than ${limits.maxMembers} members (limit reached)`);
    if (flags & 1) throw new ArchiveError(`encrypted member ${name}`);
    if (localOffset + 30 > bytes.length || data.getUint32(localOffset, true) !== ZIP_LOCAL)
      throw new ArchiveError(`not a valid zip archive (member ${name} damaged)`);
    const start = localOffset + 30 + data.getUint16(localOffset + 26, true) + data.getUint16(localOffset + 28, true);
    if (start + compressedSize > bytes.length)
      throw new ArchiveError(`not a valid zip archive (member ${name} truncated)`);
    const raw = bytes.subarray(start, start + compressedSize);
    if (method === 0) {
      spend(budget, limits, raw.length);
      take(name, raw);
    } else if (method === 8) take(name, inflate(raw, budget, limits, 'raw'));
    else throw new ArchiveError(`member ${name} uses compression method ${method}, which is not opened`);
  }
}

function spend(budget: Budget, limits: ArchiveLimits, bytes: number) {
  budget.inflated += bytes;
  if (budget.inflated > limits.maxInflated) throw bomb(limits);
}

function bomb(limits: ArchiveLimits): ArchiveError {
  return new ArchiveError(`inflates beyond ${limits.maxInflated} bytes (a zip bomb?), not followed`);
}

/**
 * Inflates with zlib's own output cap set to what is left of the budget: a bomb stops at the cap
 * instead of being inflated whole first (its declared size is not trusted).
 */
function inflate(raw: Uint8Array, budget: Budget, limits: ArchiveLimits, format: 'raw' | 'gzip'): Uint8Array {
  const left = limits.maxInflated - budget.inflated;
  if (left <= 0) throw bomb(limits);
  let out: Uint8Array;
  try {
    out =
      format === 'raw' ? inflateRawSync(raw, { maxOutputLength: left }) : gunzipSync(raw, { maxOutputLength: left });
  } catch (error) {
    if ((error as { code?: string }).code === 'ERR_BUFFER_TOO_LARGE' || error instanceof RangeError) throw bomb(limits);
    throw new ArchiveError(`corrupt compressed data (${(error as Error).message})`);
  }
  spend(budget, limits, out.length);
  return out;
}

function open(
  name: string,
  kind: ArchiveKind,
  bytes: Uint8Array,
  depth: number,
  budget: Budget,
  limits: ArchiveLimits,
  result: OpenedArchive,
) {
  const take = (member: string, data: Uint8Array) => {
    const full = `${name}!${member}`;
    const inner = archiveKind(member);
    if (inner && depth < limits.maxDepth) open(full, inner, data, depth + 1, budget, limits, result);
    else if (inner) result.skipped.push({ file: full, reason: `nested deeper than ${limits.maxDepth} archives` });
    else result.members.push({ name: full, data });
  };
  const tar = (data: Uint8Array) => {
    let entries;
    try {
      entries = readTar(data);
    } catch (error) {
      throw new ArchiveError(`not a valid tar archive (${(error as Error).message})`);
    }
    for (const entry of entries) {
      if (++budget.members > limits.maxMembers)
        throw new ArchiveError(`more than ${limits.maxMembers} members (limit reached)`);
      take(entry.name, entry.data);
    }
  };
  try {
    if (kind === 'zip') readZip(bytes, budget, limits, take);
    else if (kind === 'tar') tar(bytes);
    else {
      const inflated = inflate(bytes, budget, limits, 'gzip');
      if (kind === 'tgz') tar(inflated);
      else take(name.replace(/\.gz$/i, '').replace(/^.*[/!]/, ''), inflated);
    }
  } catch (error) {
    if (!(error instanceof ArchiveError)) throw error;
    result.skipped.push({ file: name, reason: error.message });
  }
}

/**
 * The members of the archive `name` (nested archives opened up to the depth limit), each named
 * `name!member`. What could not be opened (corrupt, encrypted, over a limit) is in `skipped`;
 * members read before a limit was reached are still returned.
 */
export function openArchive(name: string, bytes: Uint8Array, limits: ArchiveLimits): OpenedArchive {
  const result: OpenedArchive = { members: [], skipped: [] };
  const kind = archiveKind(name);
  if (kind) open(name, kind, bytes, 1, { inflated: 0, members: 0 }, limits, result);
  return result;
}
