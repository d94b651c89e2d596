import type { Policy } from '../../core/policy.js';
import type { Deps } from '../deps.js';

/**
 * The encrypted backup taken before any write (docs/architecture.md, the transaction's step 3). The engine receives it as a
 * function so that tests, and the library API, can hand in their own; by default it is
 * `createBackup` from services/backup.ts.
 */
export type BackupBeforeSwap = (
  request: { policy: Policy; files: string[]; reason: string },
  deps: Deps,
) => Promise<unknown>;

/** What the backup returned, in a few words for the output (its file name when it says one). */
export function describeBackup(result: unknown): string {
  if (result && typeof result === 'object') {
    for (const key of ['path', 'file', 'name']) {
      const value = (result as Record<string, unknown>)[key];
      if (typeof value === 'string') return value;
    }
  }
  return 'encrypted backup written';
}
