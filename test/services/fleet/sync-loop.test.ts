import { describe, expect, it } from 'vitest';
import { makeSyncLoop } from '../../../src/services/fleet/sync-watch.js';

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** Polls until `predicate` holds; fails after `ms` (generous: a loaded machine delays timers). */
async function until(what: string, predicate: () => boolean, ms = 4_000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!predicate()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(10);
  }
}

/** A sync that takes `ms`, counting its runs and calling `during` as each starts. */
function slowSync(ms: number, during?: (run: number) => void) {
  const state = { runs: 0, overlapping: false, active: 0 };
  const sync = async () => {
    state.runs++;
    state.active++;
    if (state.active > 1) state.overlapping = true;
    during?.(state.runs);
    await sleep(ms);
    state.active--;
  };
  return { state, sync };
}

describe('sync --watch scheduling', () => {
  it('a change seen in the last moment of a sync is followed by another sync, not by the five-minute timer', async () => {
    let loop: ReturnType<typeof makeSyncLoop> | undefined;
    // The change arrives shortly before the sync ends, closer than the 50 ms debounce: the
    // resync timer set at the end of the sync used to replace the debounce's, losing the change.
    const { state, sync } = slowSync(60, (run) => {
      if (run === 2) setTimeout(() => loop!.changed(), 50);
    });
    loop = makeSyncLoop(sync, () => undefined, { resyncMs: 600_000 });
    await loop.start();
    expect(state.runs).toBe(1);
    loop.changed();
    await until('a third sync', () => state.runs === 3 && state.active === 0);
    expect(state.overlapping).toBe(false);
    await loop.stop();
  });

  it('many changes during one sync make one more sync, never two at once', async () => {
    let loop: ReturnType<typeof makeSyncLoop> | undefined;
    const { state, sync } = slowSync(100, (run) => {
      if (run === 1) for (let i = 0; i < 10; i++) setTimeout(() => loop!.changed(), 5 * i);
    });
    loop = makeSyncLoop(sync, () => undefined, { resyncMs: 600_000 });
    const started = loop.start();
    await started;
    await until('the follow-up sync', () => state.runs === 2 && state.active === 0);
    await sleep(200);
    expect(state.runs).toBe(2);
    expect(state.overlapping).toBe(false);
    await loop.stop();
  });

  it('a failed sync is retried with growing back-off', async () => {
    const times: number[] = [];
    const loop = makeSyncLoop(
      async () => {
        times.push(Date.now());
        if (times.length <= 3) throw new Error(`failure ${times.length}`);
      },
      () => undefined,
      { retryMs: 50, maxRetryMs: 10_000, resyncMs: 600_000 },
    );
    await loop.start();
    await until('three retries', () => times.length === 4);
    const gaps = times.slice(1).map((time, i) => time - times[i]!);
    // Timers may fire late on a loaded machine, never early.
    expect(gaps[0]).toBeGreaterThanOrEqual(45);
    expect(gaps[1]).toBeGreaterThanOrEqual(95);
    expect(gaps[2]).toBeGreaterThanOrEqual(195);
    await loop.stop();
  });

  it('a change during the back-off syncs at once, and errors reach onError', async () => {
    const errors: unknown[] = [];
    let runs = 0;
    const loop = makeSyncLoop(
      async () => {
        runs++;
        if (runs === 1) throw new Error('etcd away');
      },
      (error) => errors.push(error),
      { retryMs: 60_000, resyncMs: 600_000 },
    );
    await loop.start();
    expect(runs).toBe(1);
    loop.changed();
    await until('the sync after the change', () => runs === 2);
    expect(errors.map(String)).toEqual(['Error: etcd away']);
    await loop.stop();
  });

  it('stop() waits for the running sync and nothing runs after it', async () => {
    const { state, sync } = slowSync(150);
    const loop = makeSyncLoop(sync, () => undefined, { debounceMs: 10, resyncMs: 20 });
    await loop.start();
    loop.changed();
    await until('the second sync running', () => state.active === 1);
    await loop.stop();
    expect(state.active).toBe(0);
    const after = state.runs;
    loop.changed();
    await sleep(100);
    expect(state.runs).toBe(after);
  });
});
