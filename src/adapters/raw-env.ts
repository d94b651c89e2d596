import { readFileSync } from 'node:fs';

let cache: Map<string, Uint8Array> | undefined;

/**
 * The exact bytes of an environment variable as this process received it. process.env decodes
 * values as UTF-8 and turns invalid bytes into U+FFFD, so two different non-UTF-8 passphrases
 * would look the same; /proc/self/environ still has the bytes. undefined off Linux, or when the
 * variable was set after start (then process.env is all there is).
 */
export function rawEnvBytes(name: string): Uint8Array | undefined {
  if (!cache) {
    cache = new Map();
    try {
      const data = readFileSync('/proc/self/environ');
      let start = 0;
      for (let index = 0; index <= data.length; index++) {
        if (index < data.length && data[index] !== 0) continue;
        const entry = data.subarray(start, index);
        const equals = entry.indexOf(0x3d);
        if (equals > 0)
          cache.set(entry.subarray(0, equals).toString('latin1'), new Uint8Array(entry.subarray(equals + 1)));
        start = index + 1;
      }
    } catch {
      // not Linux: process.env it is
    }
  }
  return cache.get(name);
}
