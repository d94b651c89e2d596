import type { Command } from 'commander';
import { runLog } from '../../services/log.js';
import type { AuditEntry } from '../../core/audit.js';
import { ExitCode } from '../../core/errors.js';
import type { CliContext } from '../context.js';

export function registerLog(program: Command, ctx: CliContext): void {
  program
    .command('log')
    .description('the audit trail; --verify checks that no entry was altered or removed')
    .option('--verify', 'check the hash chain; exit 2 and name the first bad line when it is broken')
    .option('--secret <id>', 'only the events of one secret')
    .option('--steps', 'also every step of every rotation and revocation (rotate-step, revoke-step), with details')
    .option(
      '--repair',
      'after a broken --verify: record what was found and start a new chain segment (audited; the old lines stay)',
    )
    .option('--note <text>', 'with --repair: what you found out (no secret values)')
    .option('--fleet', "the fleet's shared trail in etcd instead of this host's (a policy with a fleet: section)")
    .addHelpText(
      'after',
      '\nBy default one line per event that matters (rotated, revoked, recorded, backups, recoveries); --steps adds\nthe step-by-step entries and full details.\n\nA broken trail stops every change (exit 3) until someone looks and runs secrets log --repair.\n\nExit codes: 0 ok, 2 the trail was altered (with --verify), 3 could not run.\n\nExamples:\n  secrets log\n  secrets log --steps --secret jwt-secret\n  secrets log --secret dingtalk --json\n  secrets log --verify\n  secrets log --repair --note "restored audit.jsonl from last night\'s disk image"',
    )
    .action(
      async (
        options: {
          verify?: boolean;
          secret?: string;
          steps?: boolean;
          repair?: boolean;
          note?: string;
          fleet?: boolean;
        },
        command: Command,
      ) => {
        const deps = ctx.deps(command);
        const policy = await ctx.policy(command, deps);
        if (options.repair) {
          const { repairAuditTrail } = await import('../../services/state/audit-trail.js');
          const repaired = await repairAuditTrail(policy.stateDir, deps, options.note);
          if (ctx.globals(command).json) deps.output.out(`${JSON.stringify(repaired, null, 2)}\n`);
          else if (repaired.repaired)
            deps.output.out(
              `audit trail repaired: found line ${repaired.found?.badLine}: ${repaired.found?.reason}; recorded as entry ${repaired.entry?.seq}, a new segment starts there\n`,
            );
          else deps.output.out(`audit trail intact: ${repaired.found?.entries ?? 0} entries; nothing to repair\n`);
          return;
        }
        if (options.fleet) {
          const { withFleet } = await import('../../services/fleet/membership.js');
          const { readFleetAudit } = await import('../../services/fleet/fleet-audit.js');
          const read = await withFleet(policy, deps, (fleet) => readFleetAudit(fleet));
          const shown = read.entries.filter(
            (entry) => (options.steps || !isStep(entry)) && (!options.secret || entry.secret === options.secret),
          );
          if (ctx.globals(command).json)
            deps.output.out(
              `${JSON.stringify({ entries: shown, ...(options.verify ? { verification: read.verification } : {}) }, null, 2)}\n`,
            );
          else if (!options.verify)
            for (const entry of shown) deps.output.out(`${renderEntry(entry, Boolean(options.steps))}\n`);
          if (options.verify) reportFleetVerification(read, ctx, command, deps);
          return;
        }
        const outcome = await runLog(
          { policy, verify: Boolean(options.verify), ...(options.secret ? { secret: options.secret } : {}) },
          deps,
        );
        const entries = options.steps ? outcome.entries : outcome.entries.filter((entry) => !isStep(entry));
        if (ctx.globals(command).json) {
          deps.output.out(
            `${JSON.stringify({ entries, ...(outcome.verification ? { verification: outcome.verification } : {}) }, null, 2)}\n`,
          );
        } else if (!options.verify) {
          for (const entry of entries) deps.output.out(`${renderEntry(entry, Boolean(options.steps))}\n`);
          const hidden = outcome.entries.length - entries.length;
          if (hidden > 0 && entries.length === 0)
            deps.output.out(`(${hidden} step entr${hidden === 1 ? 'y' : 'ies'}; secrets log --steps shows them)\n`);
        }
        if (outcome.verification) {
          const result = outcome.verification;
          if (result.ok) {
            if (!ctx.globals(command).json)
              deps.output.out(
                `audit trail intact: ${result.entries} entries (${outcome.path})${result.repairedAt ? `; repaired at line ${result.repairedAt}` : ''}${result.pendingHead ? '; the last line was written just before a crash (its head is completed by the next change)' : ''}\n`,
              );
          } else {
            deps.output.err(`${outcome.path}:${result.badLine}: audit trail broken: ${result.reason}\n`);
            ctx.report(ExitCode.critical);
          }
          // A fleet member verifies the shared chain too: one ordered history for every host.
          if (policy.doc.fleet) {
            const { withFleet } = await import('../../services/fleet/membership.js');
            const { readFleetAudit } = await import('../../services/fleet/fleet-audit.js');
            reportFleetVerification(
              await withFleet(policy, deps, (fleet) => readFleetAudit(fleet)),
              ctx,
              command,
              deps,
            );
          }
        }
      },
    );
}

function reportFleetVerification(
  read: { verification: { ok: boolean; entries: number; badLine?: number; reason?: string }; where: string },
  ctx: CliContext,
  command: Command,
  deps: { output: { out(text: string): void; err(text: string): void } },
): void {
  const result = read.verification;
  if (result.ok) {
    if (!ctx.globals(command).json)
      deps.output.out(`fleet audit trail intact: ${result.entries} entries (${read.where})\n`);
  } else {
    deps.output.err(`${read.where} entry ${result.badLine}: fleet audit trail broken: ${result.reason}\n`);
    ctx.report(ExitCode.critical);
  }
}

/** The step-by-step entries of a rotation or revocation: the summary leaves them to --steps. */
function isStep(entry: AuditEntry): boolean {
  return entry.action.endsWith('-step');
}

/** What a fingerprint is, by action: a revoked entry's is the value cut off, never a "new" one. */
function fingerprintText(entry: AuditEntry): string | undefined {
  if (!entry.fingerprint) return undefined;
  if (entry.action === 'rotated')
    return `new ${entry.fingerprint}${entry.previous ? ` (replaced ${entry.previous})` : ''}`;
  if (entry.action === 'revoked') return `revoked ${entry.fingerprint}`;
  return `fingerprint ${entry.fingerprint}`;
}

/** Details a reader wants on the summary line; --steps shows them all. */
const SUMMARY_DETAILS = ['reason', 'incident', 'note', 'on', 'cutOff', 'outcome', 'step', 'message', 'name'];

function renderEntry(entry: AuditEntry, full: boolean): string {
  const parts = [entry.time, entry.actor, entry.action, entry.secret, fingerprintText(entry)].filter(
    (part): part is string => Boolean(part),
  );
  if (entry.details) {
    if (full) parts.push(JSON.stringify(entry.details));
    else {
      const shown = SUMMARY_DETAILS.filter((key) => typeof entry.details![key] === 'string').map(
        // A recorded day reads as a day: 2026-11-20, not its midnight timestamp.
        (key) => `${key}: ${String(entry.details![key]).replace(/^(\d{4}-\d{2}-\d{2})T00:00:00\.000Z$/, '$1')}`,
      );
      if (shown.length > 0) parts.push(shown.join(', '));
    }
  }
  return parts.join('  ');
}
