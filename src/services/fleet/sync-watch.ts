/**
 * `secrets sync --watch`: a service that keeps this host at the fleet's versions. It syncs once,
 * then again on every change of a secret's state or of the membership (etcd watches, which the
 * client reconnects by itself), and every five minutes in case a watch missed something. Syncs
 * never overlap; an error is printed and retried, never fatal. SIGTERM or SIGINT end it (exit 0).
 */
import { isSecretsError } from '../../core/errors.js';
import type { Policy } from '../../core/policy.js';
import type { Deps } from '../deps.js';
import { openFleet } from './store.js';
import { syncHost, type SyncOutcome } from './sync.js';

const RESYNC_MS = 5 * 60_000;
const RETRY_MS = 2_000;
const MAX_RETRY_MS = 60_000;

/**
 * When to sync: now, again after a change, after a failure with back-off, and every five minutes.
 * A change seen while a sync runs is never lost: that sync is followed by another, whatever its
 * outcome (a change that arrived in the last moments of a sync used to be overwritten by the
 * five-minute timer, leaving a host on a dropped version for minutes).
 */
export interface SyncLoop {
  /** Something changed in etcd: sync soon (or once more after the one running). */
  changed(): void;
  /** Runs the first sync; resolves when it and any follow-up it asked for have finished. */
  start(): Promise<void>;
  /** No more syncs; resolves once the running one (if any) has finished. */
  stop(): Promise<void>;
}

export function makeSyncLoop(
  sync: () => Promise<void>,
  onError: (error: unknown) => void,
  timing: { debounceMs?: number; resyncMs?: number; retryMs?: number; maxRetryMs?: number } = {},
): SyncLoop {
  const debounceMs = timing.debounceMs ?? 50;
  const resyncMs = timing.resyncMs ?? RESYNC_MS;
  const retryMs = timing.retryMs ?? RETRY_MS;
  const maxRetryMs = timing.maxRetryMs ?? MAX_RETRY_MS;
  let running: Promise<void> | undefined;
  let again = false;
  let stopped = false;
  let timer: NodeJS.Timeout | undefined;
  let failures = 0;
  const schedule = (ms: number) => {
    if (stopped) return;
    if (timer) clearTimeout(timer);
    timer = setTimeout(() => void run(), ms);
  };
  const run = (): Promise<void> => {
    if (stopped) return Promise.resolve();
    if (running) {
      again = true;
      return running;
    }
    if (timer) clearTimeout(timer);
    timer = undefined;
    running = (async () => {
      for (;;) {
        again = false;
        let failed = false;
        try {
          await sync();
          failures = 0;
        } catch (error) {
          failed = true;
          failures++;
          try {
            onError(error);
          } catch {
            // Reporting must never end the service.
          }
        }
        if (again && !stopped) continue;
        // Retries back off from 2 s to a minute: a removed host or a long outage must not spin.
        schedule(failed ? Math.min(maxRetryMs, retryMs * 2 ** Math.min(failures - 1, 5)) : resyncMs);
        return;
      }
    })().finally(() => {
      running = undefined;
      // A change said after the last check of `again` (none can be, events come in their own turn;
      // kept so the guarantee does not hang on that).
      if (again && !stopped) schedule(debounceMs);
    });
    return running;
  };
  return {
    changed() {
      if (stopped) return;
      if (running) again = true;
      else schedule(debounceMs);
    },
    start: run,
    async stop() {
      stopped = true;
      if (timer) clearTimeout(timer);
      await running;
    },
  };
}

export async function runSyncWatch(
  policy: Policy,
  deps: Deps,
  report: (outcome: SyncOutcome) => void,
  stop: Promise<void>,
): Promise<void> {
  const fleet = await openFleet(policy, deps);
  let disconnected = false;
  let lastError: string | undefined;
  const loop = makeSyncLoop(
    async () => {
      // A rotation on this host holds its state lock: wait briefly, then retry instead of queueing.
      report(await syncHost(policy, fleet, deps, { waitMs: 1_000 }));
      lastError = undefined;
    },
    (error) => {
      const line = isSecretsError(error) ? error.toLine() : String(error);
      // The rotator on this host holds the lock while it waits for the others: not worth a line.
      // Any other error is said once, not every retry (a service's log is read by people).
      const locked = isSecretsError(error) && error.code === 'locked';
      if (!locked && line !== lastError) deps.output.err(`secrets sync: ${line} (retrying)\n`);
      lastError = locked ? lastError : line;
    },
  );
  const watches = [];
  for (const prefix of fleet.keys.watched) {
    watches.push(
      await fleet.kv.watch(
        prefix,
        () => loop.changed(),
        (state, detail) => {
          // Once per outage: the client retries the watch many times while etcd is down.
          if (state === 'disconnected' && !disconnected)
            deps.output.err(`secrets sync: lost the etcd watch (${detail ?? 'no detail'}); reconnecting\n`);
          else if (state === 'connected' && disconnected) deps.output.err('secrets sync: etcd watch back\n');
          disconnected = state === 'disconnected';
        },
      ),
    );
  }
  // SIGTERM is honoured even while the first sync is still being followed by others.
  await Promise.race([loop.start(), stop]);
  await stop;
  await loop.stop();
  for (const watch of watches) await watch.close();
  await fleet.close();
}
