import type { Finding } from '../../core/checks/types.js';
import type { CheckInput } from '../check.js';
import type { Deps } from '../deps.js';
import { runSweep } from '../sweep.js';

/** Enough for a deployment folder; a daily check must not turn into a disk crawl. */
const CHECK_MAX_FILES = 1000;
const CHECK_MAX_FILE_SIZE = 1024 * 1024;

/**
 * The `stray-copy` check: a bounded `secrets sweep` of the deployment root. A current value in
 * a stray file (.env.backup.*, a swap file) is critical; an old one a warning.
 */
export async function checkStrayCopies(input: CheckInput, deps: Deps): Promise<Finding[]> {
  if (!deps.hostTree) return [];
  const { policy } = input;
  const outcome = await runSweep(
    {
      policy,
      paths: [policy.root],
      maxFiles: CHECK_MAX_FILES,
      maxFileSize: CHECK_MAX_FILE_SIZE,
      skipNames: ['.git', 'node_modules'],
    },
    deps,
  );
  return outcome.found.map((copy) => {
    const currentIds = copy.secrets.filter((s) => s.value === 'current').map((s) => s.id);
    const ids = copy.secrets.map((s) => s.id);
    return {
      check: 'stray-copy' as const,
      severity: currentIds.length > 0 ? ('critical' as const) : ('warning' as const),
      secret: ids[0]!,
      path: copy.path,
      message: `${copy.path} (owner ${copy.owner}, mode ${copy.mode}, ${copy.ageDays} day(s) old) holds ${currentIds.length > 0 ? `the current value of ${currentIds.join(', ')}` : `an old value of ${ids.join(', ')}`}: delete it (shred it if the disk allows), then run secrets sweep for other copies`,
    };
  });
}
