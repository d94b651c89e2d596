import type { Output } from '../../core/ports.js';

export interface ProgressBar {
  start(total: number, unit: string): void;
  tick(): void;
  done(): void;
}

const WIDTH = 28;
const silent: ProgressBar = { start() {}, tick() {}, done() {} };

/**
 * A one-line progress bar on stderr — done of total, rate — redrawn at most ten times a
 * second. Nothing at all when stderr is not a terminal, so pipes and CI logs stay clean.
 */
export function createProgressBar(output: Output, now: () => number = Date.now): ProgressBar {
  if (!output.isTTY) return silent;
  let total = 0;
  let done = 0;
  let unit = '';
  let started = 0;
  let drawn = 0;
  let visible = false;
  const draw = (force: boolean) => {
    const time = now();
    if (!force && time - drawn < 100) return;
    drawn = time;
    const ratio = total > 0 ? Math.min(1, done / total) : 0;
    const filled = Math.round(ratio * WIDTH);
    const seconds = Math.max(0.001, (time - started) / 1000);
    const rate = Math.round(done / seconds);
    output.err(`\r[${'#'.repeat(filled)}${'-'.repeat(WIDTH - filled)}] ${done}/${total} ${unit}  ${rate}/s\u001b[K`);
    visible = true;
  };
  return {
    start(count, name) {
      total = count;
      unit = name;
      done = 0;
      started = now();
      draw(true);
    },
    tick() {
      done++;
      draw(false);
    },
    done() {
      if (visible) output.err('\r\u001b[K');
      visible = false;
    },
  };
}
