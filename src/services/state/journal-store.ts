import { join } from 'node:path';
import { SecretsError } from '../../core/errors.js';
import type { Journal } from '../../core/rotation/journal.js';
import { fingerprint, fingerprintBytes } from '../../core/secret.js';
import { ensureStateDir, fingerprintKey } from './audit-trail.js';
import type { Deps } from '../deps.js';

/** Inside the state folder (700): the journal and the previous contents while a swap runs. */
export const JOURNAL_DIR = 'rotation';
const JOURNAL_FILE = 'journal.json';
const COPY_PREFIX = 'previous-';

export function journalDir(stateDir: string): string {
  return join(stateDir, JOURNAL_DIR);
}

export function journalPath(stateDir: string): string {
  return join(journalDir(stateDir), JOURNAL_FILE);
}

export function copyPath(stateDir: string, name: string): string {
  return join(journalDir(stateDir), name);
}

export function copyName(index: number): string {
  return `${COPY_PREFIX}${index}`;
}

export async function readJournal(stateDir: string, deps: Pick<Deps, 'files'>): Promise<Journal | undefined> {
  const path = journalPath(stateDir);
  if (!(await deps.files.stat(path))) return undefined;
  const text = await deps.files.readText(path);
  try {
    const journal = JSON.parse(text) as Journal;
    if (journal.version !== 1 || !Array.isArray(journal.files)) throw new Error('unknown shape');
    return journal;
  } catch {
    throw new SecretsError(
      'journal-corrupt',
      'the rotation journal cannot be read; compare the files it names with the newest backup by hand, then remove it',
      { where: path, exitCode: 4 },
    );
  }
}

export async function writeJournal(stateDir: string, journal: Journal, deps: Pick<Deps, 'files'>): Promise<void> {
  // The folder may not exist yet: a swap with no file to change (a restore of identical files) copies nothing first.
  await deps.files.ensureDir(journalDir(stateDir), 0o700);
  await deps.files.writeAtomic(journalPath(stateDir), `${JSON.stringify(journal, null, 2)}\n`, { mode: 0o600 });
}

/** A mode-600 copy of a file's previous content; removed when the rotation ends (see core/rotation/journal.ts). */
export async function savePreviousCopy(
  stateDir: string,
  name: string,
  content: string | Uint8Array,
  deps: Pick<Deps, 'files'>,
): Promise<void> {
  await ensureStateDir(stateDir, deps);
  await deps.files.ensureDir(journalDir(stateDir), 0o700);
  await deps.files.writeAtomic(copyPath(stateDir, name), content, { mode: 0o600 });
}

/**
 * Ends a rotation's journal: the copies first, then the journal, so that a crash in between
 * leaves a journal whose decision no longer needs the copies (the files are already final).
 * Also sweeps copies left by a crash before a journal was written.
 */
export async function clearJournal(stateDir: string, deps: Pick<Deps, 'files'>): Promise<void> {
  const dir = journalDir(stateDir);
  const names = await deps.files.list(dir).catch(() => [] as string[]);
  for (const name of names)
    if (name.startsWith(COPY_PREFIX) || name.endsWith('.tmp')) await deps.files.remove(join(dir, name));
  await deps.files.remove(journalPath(stateDir));
}

/** Keyed fingerprint of a whole file's content (the journal never holds content). */
export async function contentFingerprint(
  stateDir: string,
  content: string | Uint8Array,
  deps: Pick<Deps, 'files'>,
): Promise<string> {
  const key = await fingerprintKey(stateDir, deps);
  return typeof content === 'string' ? fingerprint(content, key) : fingerprintBytes(content, key);
}

/** Current bytes of a file, or undefined when it does not exist (binary-safe, for the journal's states). */
export async function readBytesIfExists(path: string, deps: Pick<Deps, 'files'>): Promise<Uint8Array | undefined> {
  return (await deps.files.stat(path)) ? deps.files.readBytes(path) : undefined;
}
