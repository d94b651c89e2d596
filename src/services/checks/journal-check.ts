import type { Finding } from '../../core/checks/types.js';
import { fileState, type FileState } from '../../core/rotation/journal.js';
import type { CheckInput } from '../check.js';
import type { Deps } from '../deps.js';
import { contentFingerprint, journalPath, readBytesIfExists, readJournal } from '../state/journal-store.js';

/**
 * `secrets check`'s `journal` check: a rotation that was interrupted (crash, power cut, kill)
 * is critical until `secrets rotate --recover` (or the next rotate) finishes or rolls it back.
 * It only reads: check runs from cron without the lock and must never change the files.
 */
export async function checkRotationJournal(input: CheckInput, deps: Deps): Promise<Finding[]> {
  const { policy } = input;
  let journal;
  try {
    journal = await readJournal(policy.stateDir, deps);
  } catch (error) {
    return [
      {
        check: 'journal',
        severity: 'critical',
        path: journalPath(policy.stateDir),
        message: `${journalPath(policy.stateDir)}: ${error instanceof Error ? error.message : String(error)}`,
      },
    ];
  }
  if (!journal) return [];
  const states: FileState[] = [];
  for (const file of journal.files) {
    const content = await readBytesIfExists(file.path, deps);
    states.push(
      fileState(file, content === undefined ? undefined : await contentFingerprint(policy.stateDir, content, deps)),
    );
  }
  const words: Record<FileState, string> = {
    old: 'holds the old values',
    new: 'holds the new values',
    other: 'holds neither the old nor the new content',
    missing: 'is missing',
  };
  if (journal.kind === 'restore')
    return [
      {
        check: 'journal',
        severity: 'critical',
        path: journalPath(policy.stateDir),
        message: `an in-place restore was interrupted during ${journal.phase} (started ${journal.startedAt} by pid ${journal.pid} on ${journal.host}); run secrets restore --recover (unless pid ${journal.pid} is still running)`,
      },
    ];
  const described = journal.files.map((file, index) => `${file.path} ${words[states[index]!]}`).join(', ');
  return [
    {
      check: 'journal',
      severity: 'critical',
      secret: journal.secret,
      path: journalPath(policy.stateDir),
      message: `${journal.secret}: a rotation was interrupted during ${journal.phase} (started ${journal.startedAt} by pid ${journal.pid} on ${journal.host}); ${described || 'no file changed'}; run secrets rotate --recover (unless pid ${journal.pid} is still running: then it is a rotation in progress)`,
    },
  ];
}
