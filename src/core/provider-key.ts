import { rules } from './scan/rules.js';

/**
 * Which provider a key name and a value belong to, from the scanner's rules (they know each
 * provider's key shape), so a manual secret refuses an OpenAI key pasted as ANTHROPIC_API_KEY.
 */
const PROVIDERS: Record<string, { label: string; names: RegExp }> = {
  anthropic: { label: 'Anthropic', names: /ANTHROPIC|CLAUDE/ },
  openai: { label: 'OpenAI', names: /OPENAI/ },
  github: { label: 'GitHub', names: /GITHUB|(^|_)GH_/ },
  gitlab: { label: 'GitLab', names: /GITLAB/ },
  stripe: { label: 'Stripe', names: /STRIPE/ },
  slack: { label: 'Slack', names: /SLACK/ },
  aws: { label: 'AWS', names: /(^|_)AWS_/ },
  gcp: { label: 'Google', names: /GOOGLE|GCP|GEMINI/ },
  sendgrid: { label: 'SendGrid', names: /SENDGRID/ },
  twilio: { label: 'Twilio', names: /TWILIO/ },
  telegram: { label: 'Telegram', names: /TELEGRAM/ },
  huggingface: { label: 'Hugging Face', names: /HUGGINGFACE|(^|_)HF_/ },
  npm: { label: 'npm', names: /(^|_)NPM_/ },
  pypi: { label: 'PyPI', names: /PYPI/ },
};

export function providerOfKeyName(key: string): string | undefined {
  const upper = key.toUpperCase();
  return Object.keys(PROVIDERS).find((family) => PROVIDERS[family]!.names.test(upper));
}

/** The provider whose key shape is the whole value, if any. */
export function providerOfValue(value: string): string | undefined {
  for (const rule of rules) {
    if (!(rule.family in PROVIDERS) || rule.multiline || rule.pathOnly) continue;
    const match = new RegExp(rule.regex.source, rule.regex.flags.replace(/[gy]/g, '')).exec(value);
    if (match?.groups?.secret === value) return rule.family;
  }
  return undefined;
}

/**
 * Why `value` cannot be the key `key` names, or undefined. Refused: a value with another
 * provider's shape. Unknown shapes pass (a provider may change its format before our rules do).
 */
export function providerKeyProblem(key: string, value: string): string | undefined {
  const named = providerOfKeyName(key);
  const shaped = providerOfValue(value);
  if (!named || !shaped || named === shaped) return undefined;
  return `it has the shape of ${/^[AEIOU]/.test(PROVIDERS[shaped]!.label) ? 'an' : 'a'} ${PROVIDERS[shaped]!.label} key, and ${key} names ${PROVIDERS[named]!.label}`;
}
