import { stringify } from 'yaml';

/** One YAML scalar, quoted only when YAML needs it ("600", "*.gpg"). */
export function scalar(value: string | number | boolean): string {
  // lineWidth 0: a long step must stay on its line, or the next key would land inside it.
  return stringify(value, { lineWidth: 0 }).trimEnd();
}
