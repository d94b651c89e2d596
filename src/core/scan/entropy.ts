/** Shannon entropy of a string in bits per character (0 for "aaaa", about 6 for random base64). */
export function shannonEntropy(text: string): number {
  if (text.length === 0) return 0;
  const counts = new Map<string, number>();
  for (const char of text) counts.set(char, (counts.get(char) ?? 0) + 1);
  let entropy = 0;
  for (const count of counts.values()) {
    const p = count / text.length;
    entropy -= p * Math.log2(p);
  }
  return entropy;
}

/** Runs typed by hand for an example: abcdefg, ABCDEFGH, a1b2c3, qwerty. */
export const SEQUENTIAL_RUN = new RegExp(
  [...Array.from({ length: 20 }, (_, i) => 'abcdefghijklmnopqrstuvwxyz'.slice(i, i + 7)), 'a1b2c3', 'qwerty'].join('|'),
  'i',
);
