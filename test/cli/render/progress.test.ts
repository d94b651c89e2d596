import { describe, expect, it } from 'vitest';
import { createProgressBar } from '../../../src/cli/render/progress.js';

function output(isTTY: boolean) {
  const err: string[] = [];
  return { err, output: { out: () => undefined, err: (text: string) => err.push(text), isTTY, color: false } };
}

describe('progress bar', () => {
  it('draws done/total and a rate on a terminal, and clears itself', () => {
    const { err, output: out } = output(true);
    let now = 0;
    const bar = createProgressBar(out, () => now);
    bar.start(4, 'commits');
    now = 500;
    bar.tick();
    bar.tick(); // within 100 ms of the last draw: not redrawn
    now = 1000;
    bar.tick();
    bar.done();
    expect(err[0]).toContain('0/4 commits');
    expect(err.some((line) => line.includes('2/4'))).toBe(false);
    expect(err.some((line) => line.includes('3/4 commits  3/s'))).toBe(true);
    expect(err.at(-1)).toBe('\r\u001b[K');
  });

  it('prints nothing when stderr is not a terminal', () => {
    const { err, output: out } = output(false);
    const bar = createProgressBar(out);
    bar.start(10, 'files');
    bar.tick();
    bar.done();
    expect(err).toEqual([]);
  });
});
