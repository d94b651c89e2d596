import type { Finding } from './types.js';

/**
 * Keeps one finding per secret and file across a history: the one from the oldest commit that
 * added it. Commits are ranked by their place in `git rev-list` order (0 = newest), so the
 * result does not depend on which of the parallel readers saw a commit first.
 */
export class HistoryFindings {
  readonly #rank: (commit: string) => number;
  readonly #byFingerprint = new Map<string, { finding: Finding; rank: number; commits: Set<string> }>();

  constructor(rank: (commit: string) => number) {
    this.#rank = rank;
  }

  add(finding: Finding): void {
    const rank = finding.commit === undefined ? -1 : this.#rank(finding.commit);
    const entry = this.#byFingerprint.get(finding.fingerprint);
    if (!entry) {
      this.#byFingerprint.set(finding.fingerprint, {
        finding,
        rank,
        commits: new Set(finding.commit ? [finding.commit] : []),
      });
      return;
    }
    if (finding.commit) entry.commits.add(finding.commit);
    const older = rank > entry.rank || (rank === entry.rank && finding.line < entry.finding.line);
    if (older) {
      entry.finding = finding;
      entry.rank = rank;
    }
  }

  /** Each secret once per file, at its introducing commit, with how many later commits added it again. */
  results(): Finding[] {
    return [...this.#byFingerprint.values()].map(({ finding, commits }) => ({
      ...finding,
      laterCommits: Math.max(0, commits.size - 1),
    }));
  }
}
