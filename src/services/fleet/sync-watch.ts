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

export async function runSyncWatch(
  policy: Policy,
  deps: Deps,
  report: (outcome: SyncOutcome) => void,
  stop: Promise<void>,
): Promise<void> {
  const fleet = await openFleet(policy, deps);
  let running = false;
  let again = false;
  let stopped = false;
  let timer: NodeJS.Timeout | undefined;
  let failures = 0;
  let disconnected = false;
  let lastError: string | undefined;
  const schedule = (ms: number) => {
    if (stopped) return;
    if (timer) clearTimeout(timer);
    timer = setTimeout(() => void run(), ms);
  };
  const run = async (): Promise<void> => {
    if (stopped) return;
    if (running) {
      again = true;
      return;
    }
    running = true;
    let retry = false;
    try {
      // A rotation on this host holds its state lock: wait briefly, then retry instead of queueing.
      report(await syncHost(policy, fleet, deps, { waitMs: 1_000 }));
      failures = 0;
      lastError = undefined;
    } catch (error) {
      retry = true;
      failures++;
      const line = isSecretsError(error) ? error.toLine() : String(error);
      // The rotator on this host holds the lock while it waits for the others: not worth a line.
      // Any other error is said once, not every retry (a service's log is read by people).
      const locked = isSecretsError(error) && error.code === 'locked';
      if (!locked && line !== lastError) deps.output.err(`secrets sync: ${line} (retrying)\n`);
      lastError = locked ? lastError : line;
    } finally {
      running = false;
    }
    if (again) {
      again = false;
      return run();
    }
    // Retries back off from 2 s to a minute: a removed host or a long outage must not spin.
    schedule(retry ? Math.min(MAX_RETRY_MS, RETRY_MS * 2 ** Math.min(failures - 1, 5)) : RESYNC_MS);
  };
  const watches = [];
  for (const prefix of fleet.keys.watched) {
    watches.push(
      await fleet.kv.watch(
        prefix,
        () => schedule(50),
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
  await run();
  await stop;
  stopped = true;
  if (timer) clearTimeout(timer);
  for (const watch of watches) await watch.close();
  while (running) await new Promise((resolve) => setTimeout(resolve, 50));
  await fleet.close();
}
