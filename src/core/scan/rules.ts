import type { MatchContext, Rule } from './types.js';
import { fake, join } from './fake-values.js';
import { SEQUENTIAL_RUN, shannonEntropy } from './entropy.js';
import { checksumFails, macaroonHoldsSignature } from './checksums.js';
import {
  PROVIDER_WORDS,
  contextRules,
  hasKnownPrefix,
  isBase64Prose,
  namedRules,
  opsFileRules,
  prefixedRules,
} from './provider-rules.js';

/*
 * Rules as data. Each regex is written to run in linear time: a literal prefix first, a
 * negative lookbehind of the token's own alphabet so a long run of token characters is tried
 * from one start only, and bounded repeats whose alphabets do not overlap with what follows.
 * Examples are built at run time from parts (see fake-values.ts).
 */

/** Values that name a secret instead of holding one: templates, env lookups, masks, examples. */
/** A word a person writes into a placeholder, in one of the cases people write it (not FaKe inside random text). */
const PLACEHOLDER_WORD =
  /(?:[Rr]eplace|REPLACE|[Yy]our|YOUR|[Hh]ere|HERE|[Ee]xample|EXAMPLE|[Dd]ummy|DUMMY|[Ss]ample|SAMPLE|[Ff]ake|FAKE)/;

export const PLACEHOLDER_PATTERNS: RegExp[] = [
  SEQUENTIAL_RUN,
  /^[x*#.?_-]+$/i,
  /^(?:x{3,}|X{3,}).*$/,
  /^<[^>]*>?$/,
  /^\$\{?[A-Za-z_][A-Za-z0-9_.]*\}?/,
  /^\$\(/,
  /^%\(?[A-Za-z_]*\)?s?%?$/,
  /^\{\{.*\}\}?$/,
  /^\{[A-Za-z_][\w.]*\}$/,
  /^(?:process\.env|import\.meta\.env|os\.environ|os\.getenv|env\.|ENV\[|getenv|System\.getenv|config\.|settings\.|secrets\.)/,
  /(?:your|my)[_-]?[a-z_-]*(?:key|token|secret|password|pass|here)/i,
  /^(?:change|replace)[_-]?(?:me|it|this|with|in[_-]production)/i,
  /change[_-]?in[_-]?production/i,
  /placeholder|redacted|dummy|example|sample|fake|not[_-]?a[_-]?real|insert[_-]?here|from[_-]vault|todo|fixme/i,
  /^(?:password|passwd|secret|token|pass|test|testing|none|null|nil|undefined|true|false|empty|default|admin|root|string|value|required|optional|hidden|masked|foobar|foo|bar)$/i,
  /^(?:not[_ -]?(?:set|configured|defined|provided)|unset|n\/a|tbd|changeme|missing|unknown)$/i,
  /^(?:\.{3}|…)/,
];

/**
 * A secret-like name; `public…`, `csrf…` tokens are meant to be seen (`publicKeyToken` is the hash of
 * an assembly's public key). A name inside a URL path
 * (`'/forgot-password' => …`) is a route, not a variable.
 */
const GENERIC_NAME = `(?<!\\/[\\w-]{0,40})(?<!public[_.-]?(?:key[_.-]?)?|csrf[_.-]?|xsrf[_.-]?|aws[_.-]?(?:secret[_.-]?)?)(?:${[
  'secret',
  // Not a page's token: NextToken, ContinuationToken, PageToken. A client, update, sync or verification
  // token can be a secret (Vault's client_token, a DDNS update token, Slack's verification token).
  '(?<!(?:next|continuation|page|pagination|idempotency|resume|starting)[_.-]?)token',
  '(?<!ht)passw(?:or)?d', // not htpasswd: a file of hashes
  'passphrase',
  'pwd',
  '(?<![A-Za-z])pass(?![A-Za-z])',
  'api[_.-]?key',
  'apikey',
  'private[_.-]?key',
  'access[_.-]?key',
  'auth[_.-]?(?:key|token)',
  '(?<![A-Za-z])auth(?![A-Za-z])',
  'client[_.-]?secret',
  'credentials?',
  'signing[_.-]?key',
  'encryption[_.-]?key',
  'master[_.-]?key',
  'session[_.-]?key',
].join('|')})`;
/** The rest of the name, unless it names something beside the secret (its id, url, file, length...). */
const GENERIC_TAIL =
  '(?=(?<tail>[\\w.-]{0,30}))\\k<tail>(?<!(?:id|ids|url|uri|name|names|type|file|path|dir|endpoint|count|len|length|size|prefix|ttl|version|field|format|mode|method|hash|header|arg|args|spec|source|time|date|timestamp|used|patch|dpatch|diff|alg|algo|algorithm|scheme|expiry|expires|expiration|env|label|policy|provider|ref|arn|key_?id))';
/** A declaration's type between name and value: `apiToken: String =` (Kotlin, Swift, TypeScript), `TOKEN: &str =` (Rust). */
const TYPED_DECLARATION = `[ \\t]{0,5}:[ \\t]{0,5}&?(?:'static[ \\t]+)?[A-Za-z_][\\w.]{0,30}(?:<[\\w., ]{0,40}>)?(?:\\[\\])?\\??[ \\t]{0,5}=(?![=>])`;
/**
 * An assignment in env, YAML, JSON, INI, TOML, Python, JS/TS or shell (`=`, `:=`, `=>`,
 * `"name": `, `name: `, `\"name\":` in JSON held in a string, `name: Type =`, `#define NAME "…"`, `-passout pass:…`, a setter's `setPassword("…")`), a comparison (`==`, `===`, `!=`), or a `"name", "value"` pair
 * (`Add("AccountKey", "…")`, `setProperty('sonar.login', '…')`, `os.environ.get("X", "…")`), or a
 * hard-coded fallback (`process.env.X || "…"`, `os.getenv("X") or "…"`). Aligned columns may put
 * many blanks before the operator.
 */
const GENERIC_OPERATOR = `(?:\\\\"[ \\t]{0,5}:|${TYPED_DECLARATION}|(?<=#[ \\t]{0,3}define[ \\t]{1,5}\\w{1,60})[ \\t]+(?=["'])|(?<=-pass(?:in|out)[ \\t]{1,3}pass):|(?<=\\bset[\\w]{0,30})\\([ \\t]{0,3}(?=["'\`])|["'\`]\\]?[ \\t]{0,20}(?:===?|!==?|=|:=|::=|:::=|\\?=|:|=>|,)|\\]?[ \\t]{0,20}(?:===?|!==?|=|:=|::=|:::=|\\?=|=>)|[ \\t]{0,20}:[ \\t]|["'\`]?\\)?[ \\t]{0,5}(?:\\|\\||\\?\\?)|["'\`]?\\)[ \\t]{1,5}or(?=[ \\t]))[ \\t]{0,5}`;
/**
 * The value: a string literal (any characters but blanks, escapes honoured: a password may hold
 * quotes and braces, a sentence is no password; with a prefix: Python's b"…" r"…" f"…", C#'s @"…",
 * Go's []byte("…")) or a bare token up to a delimiter.
 */
const GENERIC_VALUE = `(?:\\[\\]byte\\(|[bBrRuUfF@$]{1,2}(?=["']))?(?:\\\\?"(?<secret>(?:[^"\\\\\\s]|\\\\.){6,200}?)\\\\?"|'(?<secret2>(?:[^'\\\\\\s]|\\\\.){6,200}?)'|\`(?<secret3>[^\`\\s]{6,200})\`|(?<secret4>[^\\s"'\`;,<>(){}\\[\\]\\\\|]{6,200}))`;

/** Files whose unquoted values are literals, not code. */
const CONFIG_FILE = /(?:^|\/)(?:\.env(?:\.[\w.-]+)?|[^/]*\.(?:env|ini|cfg|conf|properties|ya?ml|toml))$/i;

/** Names of passwords (chosen by people: any characters, shorter) rather than issued tokens. */
const PASSWORD_NAME = /passw|passphrase|pwd|(?<![a-z])pass(?![a-z])/i;

/**
 * Source files of languages where a bare word after `=` or `:` may be code (a variable, a type, a call):
 * `sessionKey: Uint8Array`, `secretKey = b64ToUint8Array(d)`. Inside a string literal of such a file
 * (a URL's query, a command, a config held in a string) the same shape is text, so a bare value there
 * is dropped only when it looks like code (codeLike), never for where it is.
 */
const CODE_FILE =
  /\.(?:[cm]?[jt]sx?(?:\.map)?|py|pyi|go|java|kt|kts|scala|groovy|cs|fs|vb|rs|swift|dart|c|cc|cpp|cxx|h|hh|hpp|m|mm|php|rb|lua|pl|pm)$/i;
/** An environment file's line inside code (a here-document, a fixture string): `API_KEY=value` to its end. */
const ENV_LINE = /^[ \t]*(?:export[ \t]+)?[A-Z][A-Z0-9_]*=[^\s'"`]+[ \t]*$/;

/**
 * An identifier made of words: Uint8Array, OAuth2Client, X25519PrivateKey, NoLineTerminatorHere.
 * Each word has a vowel and two or more lower-case letters (a two-letter word only before another word
 * or an acronym); random text breaks that within a few characters (`Xk9fLq0Z`: the `f` after a digit).
 * Random alphanumerics pass 0.03% at 40 characters, 4% at 16, 10% at 10 (20,000 draws each), and the
 * test is used only where code is expected (codeLike) or for letters behind one sign.
 */
const WORDS_IDENTIFIER =
  /^(?:(?=[AEIOUY]|[A-Z]?[a-z]*[aeiouy])[A-Z]?[a-z]{2,}|[A-Z]{1,8}(?![a-z])|[A-Z][a-z](?=[A-Z][a-z]{2}|[A-Z]{2,}(?![a-z]))|\d{1,6}|[_$])+$/;

/** Whether the text before a position on its line leaves a string literal open (an odd count of its quotes). */
function insideString(text: string): boolean {
  for (const quote of ['"', "'", '`']) {
    let count = 0;
    for (let at = text.indexOf(quote); at !== -1; at = text.indexOf(quote, at + 1)) if (text[at - 1] !== '\\') count++;
    if (count % 2 === 1) return true;
  }
  return false;
}

/**
 * A bare value that reads as code: a call, an operator expression, a member chain, or a type or
 * variable name in code position (not inside a string literal, before code punctuation or the line's
 * end). Inside a string (a config held in code) a password like SummerHoliday2024 is still a value.
 */
function codeLike(secret: string, context: MatchContext, after: string): boolean {
  if (/^[ \t]*\(/.test(after)) return true;
  if (/^!|&&|\|\||===?|!==?|=>|\?[\w$.]*:/.test(secret)) return true;
  if (/^[A-Za-z_$][\w$]*(?:\??\.[A-Za-z_$][\w$]*)+$/.test(secret)) return true;
  if (secret.length > 40 || !WORDS_IDENTIFIER.test(secret)) return false;
  // In a comment, quotes are prose: `{secretKey: Uint8Array}` in a doc comment is a type, and
  // `passphrases: Argon2 S2K` a sentence.
  if (COMMENT_LINE.test(context.line)) return true;
  if (!/^[ \t]*(?:[,;)}\]>|=&`]|$)/.test(after)) return false;
  // A source map holds code inside one JSON string: every value there is "inside a string". At most
  // 1,000 characters are read back: a minified line holds thousands of matches.
  return (
    /\.map$/.test(context.file) ||
    !insideString(context.before.slice(-1000 - context.prefix.length, -context.prefix.length || undefined))
  );
}
/** A line that is a comment, where a bare value is prose or a commented-out setting, so still judged. */
const COMMENT_LINE = /^\s*(?:\/\/|\/\*|\*|#|--|<!--|;|%|')/;

/** A line of a test run's report (DejaGnu, automake, TAP-like) before the one judged. */
const TEST_REPORT =
  /(?:^|\n)(?:PASS|FAIL|XFAIL|XPASS|UNSUPPORTED|UNTESTED|UNRESOLVED|ERROR|SKIP):[ \t]|(?:^|\n)Running [^\n]*\.\.\./;

/** A badge's address: a `token=` in its query string is a read token, made to be embedded in a README. */
const IMAGE_QUERY = /badge[\w./-]*\.(?:svg|png)\?(?:[^\s"'?#]*&)?$/i;
const PROVIDER_NAME = new RegExp(
  PROVIDER_WORDS.map((word) => word.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')).join('|'),
  'i',
);

/** `a.b.c` member access: short identifier segments, few digits. Not `be8dfd.da8a689a46edc282`. */
function looksLikeMemberAccess(value: string): boolean {
  if (!/^[A-Za-z_$][\w$]*(?:\??\.[A-Za-z_$][\w$]*)+$/.test(value)) return false;
  return value.split('.').every((segment) => segment.length <= 24) && (value.match(/\d/g)?.length ?? 0) <= 3;
}

/**
 * The generic rule's look at its match: password names take shorter, plainer values; a name that
 * names a provider, or a value with a provider's prefix, is left to that provider's rule (which
 * knows the format, so a near miss is not reported as a generic secret).
 */
/**
 * The run of name characters ([\w.-]) that ends `text`, read backwards: a regex anchored at the end
 * (/[\w.-]*$/) retries from every start, quadratic on a minified line of word characters.
 */
function trailingName(text: string): string {
  let start = text.length;
  while (start > 0 && /[\w.-]/.test(text[start - 1]!)) start--;
  return text.slice(start);
}

/** How much of the text before a match its context tests read: a call's `(` or a name is near. */
const CONTEXT_BEFORE = 300;

function genericValidate(secret: string, context: MatchContext): boolean {
  const name = context.prefix;
  const quoted = /["'`]$/.test(name);
  const password = PASSWORD_NAME.test(name);
  const after = context.line.slice(context.before.length + secret.length);
  const head = context.before.slice(0, context.before.length - name.length);
  // The variable's whole name: the match starts at the keyword (TOKEN in VERCEL_TOKEN).
  const variable = trailingName(head);
  const beforeName = head.slice(0, head.length - variable.length);
  // A "name", "value" pair only inside a call or an initializer: Add("ApiKey", "…"), not a list of strings.
  if (/["'`][ \t]*,[ \t]*["'`]?$/.test(name)) {
    const near = beforeName.slice(-CONTEXT_BEFORE);
    if (!/[({][ \t]*["'`]?$/.test(near) || !/^["'`]?[ \t]*[)}]/.test(after)) return false;
  }
  // A bare value in a source file that reads as code is code (a call, an expression, a type); a random one
  // is a literal, in a comment or a string as much as anywhere. A template literal with ${…} is built at run time.
  if (!quoted && CODE_FILE.test(context.file) && !ENV_LINE.test(context.line) && codeLike(secret, context, after))
    return false;
  if (/`$/.test(name) && secret.includes('${')) return false;
  // A JSON document held in a string whose own secret field is judged on its own (\"password\":\"…\").
  if (
    /^\{\\?"/.test(secret) &&
    /\\?"[\w.-]*(?:passw|secret|token|api_?key|private_?key)[\w.-]*\\?"[ \t]*:/i.test(secret + after.slice(0, 300))
  )
    return false;
  // An environment variable interpolated into the string ("-auth=anonymous:$FROM_EMAIL"): what is left is judged.
  const literal = secret.replace(/\$\{[A-Za-z_]\w*\}|\$[A-Z][A-Z0-9]*_[A-Z0-9_]+(?![a-z])/g, '');
  if (literal !== secret && (literal.length < 10 || shannonEntropy(literal) < 3)) return false;
  if (IMAGE_QUERY.test(head)) return false;
  // A test report's status line (`PASS: addr2line` after other results), a PKCS#11 URI's token label (`pkcs11:token=…`).
  const linesBefore = context.window.slice(0, context.window.length - context.before.length);
  if (/^[ \t]*PASS:[ \t]/.test(context.line) && TEST_REPORT.test(linesBefore)) return false;
  if (/\bpkcs11:\S*$/i.test(head)) return false;
  // A ternary's branch (`x ? 'needs-passphrase' : 'other-keys'`) is no name and its value.
  if (/\?[ \t]*["'`][^"'`]*$/.test(head)) return false;
  // `typeof password === 'function'` tests a type; `"AWS::IAM::AccessKey":` names one.
  if (/\btypeof[ \t(]+$/.test(beforeName) || /["']\w+(?:::\w+)*::$/.test(beforeName)) return false;
  // A constant whose value is its own name, or the end of it, is a label (FORCE_CHANGE_PASSWORD =
  // "FORCE_CHANGE_PASSWORD", #define LN_userPassword "userPassword").
  const fullName = (variable + (/^[\w.-]*/.exec(name)?.[0] ?? '')).split('.').pop() ?? '';
  const bareWord = (text: string) => text.replace(/[_.-]/g, '').toLowerCase();
  if (bareWord(fullName).endsWith(bareWord(secret))) return false;
  // An f-string or an interpolated C# string with {…} is built at run time.
  if (/(?:^|[^\w])[fF$]["']$/.test(name) && /\{[^}]*\}/.test(secret)) return false;
  // A value that repeats the secret word of its name is a label ('credential|id'), not a secret.
  const word = /secret|token|credential|api[_.-]?key|auth/i.exec(name)?.[0];
  if (!password && word && secret.toLowerCase().includes(word.toLowerCase())) return false;
  if (!password && secret.length < 10) return false;
  // Lower-case words naming the password they stand for: fallback-password, generatedpassword1, bandpass.
  if (password && /^[a-z0-9_-]+$/.test(secret) && /password/.test(secret)) return false;
  if (shannonEntropy(secret) < (password ? 2.5 : 3)) return false;
  if (!quoted && /=[^=]/.test(secret)) return false;
  // A GitHub or npm token whose checksum fails is no token those providers issued, and their
  // rules do not report it: it is judged here by its context like any other value.
  const unclaimed = checksumFails(secret);
  if (!password && !unclaimed && PROVIDER_NAME.test(variable + name)) return false;
  // Letters only: a word or an identifier, unless a password name holds it in a string or a config file.
  // One sign before the word changes nothing: a handle (@dougwilson), a marker (#mesondefine, ?NoLineTerminator).
  // ...and only when the variable is the password itself (PASS, db_password), not passwordScheme.
  const isPassword = /(?:passw(?:or)?d|passphrase|pwd|pass)$/i.test(/^[\w.-]*/.exec(name)?.[0] ?? '');
  const letters = /^[^\w\s]?([A-Za-z_-]+)$/.exec(secret)?.[1];
  if (
    letters !== undefined &&
    (letters === secret || /^[a-z]+$/.test(letters) || WORDS_IDENTIFIER.test(letters)) &&
    !(isPassword && (quoted || CONFIG_FILE.test(context.file)))
  )
    return false;
  if (!unclaimed && hasKnownPrefix(secret)) return false;
  // 40 hex is a commit or content hash, unless the name says it is a secret (OAuth client secrets are 40 hex).
  if (/^[0-9a-f]{40}$/.test(secret) && !/secret|passw|private|pwd/i.test(name)) return false;
  if (looksLikeMemberAccess(secret)) return false;
  if (isBase64Prose(secret)) return false;
  return true;
}

/** Domains reserved for documentation (RFC 2606): no server behind them holds an account. */
const DOCUMENTATION_HOST = /^@(?:[\w-]+\.)*(?:example\.(?:com|net|org)|[\w-]+\.(?:example|invalid))(?![\w.-])/i;
/** Files that are prose: Markdown, reStructuredText, AsciiDoc. */
const PROSE_FILE = /\.(?:md|markdown|mdx|rst|adoc|asciidoc)$/i;

/** `user:pass@example.com` in a README or a doc comment shows the syntax; anywhere else it is a value. */
function urlCredentialsValidate(secret: string, context: MatchContext): boolean {
  const host = context.line.slice(context.before.length + secret.length);
  if (!DOCUMENTATION_HOST.test(host)) return true;
  return !(PROSE_FILE.test(context.file) || COMMENT_LINE.test(context.line));
}

/** The generic rule's reverse form: `"value" === password`, `if ("…" == token)`. */
const GENERIC_REVERSED = new RegExp(
  `(?<![\\w"'])(?:"(?<secret>[^"\\\\\\n]{6,200})"|'(?<secret2>[^'\\\\\\n]{6,200})')[ \\t]{0,3}(?:===?|!==?)[ \\t]{0,3}[\\w.$>-]{0,40}?(?:password|passwd|secret|token|api_?key|private_?key)`,
  'i',
);

export const rules: Rule[] = [
  // --- AWS ---
  {
    id: 'aws-access-key-id',
    family: 'aws',
    description: 'AWS access key id',
    regex: /(?<![A-Z0-9])(?<secret>(?:AKIA|ASIA|ABIA|ACCA|A3T[A-Z0-9])[A-Z2-7]{16})(?![A-Za-z0-9])/,
    keywords: ['akia', 'asia', 'abia', 'acca', 'a3t'],
    severity: 'high',
    minEntropy: 3,
    allow: [/EXAMPLE/],
    examples: {
      match: [() => `aws_access_key_id = ${join('AKIA', fake.base32(16))}`],
      noMatch: [
        () => `aws_access_key_id = ${join('AKIA', 'IOSFODNN7', 'EXAMPLE')}`,
        () => join('AKIA', fake.base32(10)),
      ],
    },
  },
  {
    id: 'aws-secret-access-key',
    placeholders: true,
    family: 'aws',
    description: 'AWS secret access key',
    regex:
      /(?:aws|secret)[\w.-]{0,20}(?:secret|access)[\w.-]{0,20}["'`]?\s{0,5}(?:=|:|=>|:=)\s{0,5}["'`]?(?<secret>[A-Za-z0-9/+]{40})(?![A-Za-z0-9/+=])/i,
    keywords: ['secret_access', 'secretaccess', 'secret-access', 'aws_secret', 'awssecret'],
    severity: 'high',
    minEntropy: 3.5,
    allow: [/EXAMPLEKEY$/],
    examples: {
      match: [() => `AWS_SECRET_ACCESS_KEY=${fake.base64(40)}`, () => `"aws_secret_access_key": "${fake.alnum(40)}"`],
      noMatch: [
        () => `AWS_SECRET_ACCESS_KEY=${join('wJalrXUtnFEMI/K7MDENG/bPxRfiCY', 'EXAMPLEKEY')}`,
        () => `AWS_SECRET_ACCESS_KEY=\${AWS_SECRET}`,
      ],
    },
  },
  {
    id: 'aws-bedrock-api-key',
    family: 'aws',
    description: 'Amazon Bedrock API key',
    regex: /(?<![A-Za-z0-9+/])(?<secret>ABSK[A-Za-z0-9+/]{100,400}={0,2})/,
    keywords: ['absk'],
    severity: 'high',
    allow: [/EXAMPLE/],
    examples: { match: [() => join('ABSK', fake.base64(120))], noMatch: [() => join('ABSK', fake.base64(20))] },
  },
  // --- GitHub ---
  {
    id: 'github-token',
    family: 'github',
    description: 'GitHub token (classic PAT, OAuth, app user/installation, refresh)',
    regex:
      /(?<![A-Za-z0-9_])(?<secret>gh[pousr]_[A-Za-z0-9]{36,255}|ghs_\d{1,12}_eyJ[A-Za-z0-9_-]{10,2000}\.[A-Za-z0-9_-]{10,4000}\.[A-Za-z0-9_-]{10,2000})(?![A-Za-z0-9])/,
    keywords: ['ghp_', 'gho_', 'ghu_', 'ghs_', 'ghr_'],
    severity: 'high',
    minEntropy: 3,
    // Since 2021 the last 6 of the 36 characters are a CRC32 of the first 30 (checksums.ts).
    validate: (secret) => !checksumFails(secret),
    examples: {
      match: [
        () => `GITHUB_TOKEN=${fake.github('ghp_')}`,
        () => fake.github('gho_'),
        () => `token: ${fake.github('ghs_')}`,
        () => `see ${fake.github('ghr_')} and ${fake.github('ghu_')}`,
      ],
      noMatch: [
        () => join('ghp_', fake.alnum(20)),
        () => join('ghp_', 'x'.repeat(36)),
        // One character changed: the checksum fails.
        () => `see ${join('ghp_', fake.badChecksum())} here`,
        () => join('gho_', fake.badChecksum()),
      ],
    },
  },
  {
    id: 'github-fine-grained-pat',
    family: 'github',
    description: 'GitHub fine-grained personal access token',
    regex: /(?<![A-Za-z0-9_])(?<secret>github_pat_[A-Za-z0-9_]{82,255})(?![A-Za-z0-9_])/,
    keywords: ['github_pat_'],
    severity: 'high',
    minEntropy: 3,
    examples: {
      match: [() => join('github_pat_', fake.alnum(22), '_', fake.alnum(59))],
      noMatch: [() => join('github_pat_', fake.alnum(30))],
    },
  },
  // --- GitLab ---
  {
    id: 'gitlab-token',
    family: 'gitlab',
    description: 'GitLab token (personal, pipeline trigger, runner, deploy, feed, OAuth, ...)',
    regex:
      /(?<![A-Za-z0-9_-])(?<secret>(?:glpat|glptt|glrt|gldt|glft|glsoat|glcbt|glimt|glagent|gloas|glffct|glwt)-[A-Za-z0-9_.-]{20,300})(?![A-Za-z0-9_-])|(?<![A-Za-z0-9])(?<secret2>GR1348941[A-Za-z0-9_-]{20,})/,
    keywords: [
      'glpat-',
      'glptt-',
      'glrt-',
      'gldt-',
      'glft-',
      'glsoat-',
      'glcbt-',
      'glimt-',
      'glagent-',
      'gloas-',
      'glffct-',
      'glwt-',
      'gr1348941',
    ],
    severity: 'high',
    minEntropy: 3,
    examples: {
      match: [() => join('glpat-', fake.alnum(20)), () => `token = "${join('glptt-', fake.hex(40))}"`],
      noMatch: [() => join('glpat-', fake.alnum(8))],
    },
  },
  // --- Slack ---
  {
    id: 'slack-token',
    family: 'slack',
    description: 'Slack token (bot, user, app, config, legacy)',
    regex: new RegExp(
      `(?<![A-Za-z0-9_.-])(?<secret>${[
        'xoxb-\\d{8,14}-(?:\\d{8,14}-)?[A-Za-z0-9]{18,64}', // bot
        'xox[pe]-\\d{8,14}-\\d{8,14}-\\d{8,14}-[a-fA-F0-9]{28,64}', // user, enterprise
        'xox[os]-\\d{6,14}-\\d{6,14}-\\d{6,14}-[a-fA-F0-9]{10,64}', // legacy
        'xoxa-\\d-\\d{6,14}-\\d{6,14}-\\d{6,14}-[a-fA-F0-9]{10,64}', // app (old)
        'xox[ar]-\\d-[A-Za-z0-9-]{40,300}', // app, refresh
        'xoxe\\.xox[bp]-\\d-[A-Za-z0-9]{100,300}', // rotating
        'xoxe-\\d-[A-Za-z0-9]{100,300}', // config refresh
        'xapp-\\d-[A-Z0-9]{6,}-\\d{6,}-[a-z0-9]{16,}', // app-level
        // Any kind, by its fixed part: one or more numeric ids, then an alphanumeric secret. Older and test
        // workspaces issued shorter ids and secrets than today's formats, so this is looser than the lines above;
        // any character outside the token's alphabet still ends the match.
        'xox[abposr]-\\d{6,14}(?:-\\d{6,14}){0,3}-(?=[A-Za-z0-9]*[A-Za-z])[A-Za-z0-9]{10,64}',
        'xox[abposr]-\\d{8,14}-\\d{8,14}(?:-[A-Za-z0-9]{8,64}){0,3}',
        'xapp-\\d{6,14}-[A-Za-z0-9/+]{20,64}', // app-level, older
      ].join('|')})(?![A-Za-z0-9-])`,
    ),
    keywords: ['xoxa-', 'xoxb-', 'xoxp-', 'xoxo-', 'xoxs-', 'xoxr-', 'xoxe-', 'xoxe.', 'xapp-'],
    severity: 'high',
    minEntropy: 2.5,
    allow: [/^xox[a-z]-(?:x+|\.+|\*+)/i, /-(?:x{4,}|X{4,})/, SEQUENTIAL_RUN, PLACEHOLDER_WORD],
    examples: {
      match: [
        () => join('xoxb-', fake.digits(12), '-', fake.digits(13), '-', fake.alnum(24)),
        () => join('xoxp-', fake.digits(11), '-', fake.digits(11), '-', fake.digits(12), '-', fake.hex(32)),
        () => join('xoxb-', fake.digits(11), '-', fake.digits(13), 'u'),
        () => join('xoxr-', fake.digits(6), '-', fake.digits(6), '-', fake.digits(6), '-', fake.hex(18)),
        () => join('xapp-', fake.digits(12), '-', fake.alnum(12), '/', fake.alnum(11)),
      ],
      noMatch: [
        () => 'xoxb-xxxxxxxxxxxx-xxxxxxxxxxxx',
        () => 'xoxb-123',
        () => join('xoxb-', fake.digits(11), '?', fake.digits(13), 'u'),
        () => join('xoxb-', fake.digits(10), '-', 'abcdefghijkl'),
        () => join('xoxp-', fake.digits(12), '-', 'ReplaceMeWithYourToken'),
      ],
    },
  },
  {
    id: 'slack-webhook',
    family: 'slack',
    description: 'Slack incoming webhook or workflow URL',
    regex:
      /(?<secret>https?:\/\/hooks\.slack\.com\/(?:services|workflows|triggers)\/[A-Za-z0-9_]{6,}\/[A-Za-z0-9_]{6,}\/[A-Za-z0-9_/]{16,200})/,
    keywords: ['hooks.slack.com'],
    severity: 'high',
    allow: [/X{6,}|x{6,}/],
    examples: {
      match: [
        () =>
          join(
            'https://hooks.slack',
            '.com/services/T',
            fake.upperAlnum(8),
            '/B',
            fake.upperAlnum(8),
            '/',
            fake.alnum(24),
          ),
      ],
      noMatch: [() => join('https://hooks.slack', '.com/services/T00000000/B00000000/', 'X'.repeat(24))],
    },
  },
  // --- Payments and messaging providers ---
  {
    id: 'stripe-key',
    family: 'stripe',
    description: 'Stripe secret or restricted key',
    regex: /(?<![A-Za-z0-9_])(?<secret>(?:sk|rk)_(?:test|live|prod)_[A-Za-z0-9]{10,250})(?![A-Za-z0-9])/,
    keywords: ['sk_test_', 'sk_live_', 'sk_prod_', 'rk_test_', 'rk_live_', 'rk_prod_'],
    severity: 'high',
    minEntropy: 3,
    examples: {
      match: [() => join('sk_live_', fake.alnum(24)), () => join('rk_test_', fake.alnum(99))],
      noMatch: [() => join('pk_live_', fake.alnum(24)), () => join('sk_live_', 'x'.repeat(24))],
    },
  },
  {
    id: 'twilio-api-key',
    family: 'twilio',
    description: 'Twilio API key SID or auth token',
    regex:
      /(?<![A-Za-z0-9])(?<secret>SK[0-9a-f]{32})(?![A-Za-z0-9])|twilio[\w.-]{0,20}(?:auth|token|secret)[\w.-]{0,20}["'`]?\s{0,5}[=:]\s{0,5}["'`]?(?<secret2>[0-9a-f]{32})(?![0-9a-f])/i,
    keywords: ['sk', 'twilio'],
    severity: 'high',
    minEntropy: 3,
    examples: {
      match: [() => join('SK', fake.hex(32)), () => `TWILIO_AUTH_TOKEN=${fake.hex(32)}`],
      noMatch: [() => join('SK', fake.hex(20)), () => join('AC', fake.hex(32))],
    },
  },
  {
    id: 'sendgrid-api-key',
    family: 'sendgrid',
    description: 'SendGrid API key',
    regex: /(?<![A-Za-z0-9_.-])(?<secret>SG\.[A-Za-z0-9_-]{16,32}\.[A-Za-z0-9_-]{16,64})(?![A-Za-z0-9_-])/,
    keywords: ['sg.'],
    severity: 'high',
    minEntropy: 3,
    examples: {
      match: [() => join('SG', '.', fake.base64url(22), '.', fake.base64url(43))],
      noMatch: [() => 'SG.foo.bar'],
    },
  },
  // --- Package registries ---
  {
    id: 'npm-token',
    family: 'npm',
    description: 'npm access token',
    regex:
      /(?<![A-Za-z0-9_])(?<secret>npm_[A-Za-z0-9]{36})(?![A-Za-z0-9])|(?:(?<![\w.$])|(?<=npm_config_|NPM_CONFIG_))_(?:auth(?:Token)?|AUTH(?:TOKEN)?)\s{0,3}=\s{0,3}["']?(?<secret2>[A-Za-z0-9_.+/=-]{20,200})/,
    keywords: ['npm_', '_authtoken', '_auth'],
    severity: 'high',
    allow: [/x{6,}|X{6,}/, /^\$/],
    // npm_ tokens carry GitHub's checksum scheme (checksums.ts).
    validate: (secret) => !checksumFails(secret),
    examples: {
      match: [
        () => join('npm_', fake.checksummed()),
        () => `//registry.npmjs.org/:_authToken=${fake.uuid()}`,
        () => `//registry.npmjs.org/:_authToken=${join('npm_', fake.checksummed())}`,
      ],
      noMatch: [
        () => join('npm_', fake.alnum(10)),
        () => '//registry.npmjs.org/:_authToken=${NPM_TOKEN}',
        () => 'basic_auth = self._construct_basic_auth(username, password)',
        () => `see ${join('npm_', fake.badChecksum())} here`,
      ],
    },
  },
  {
    id: 'pypi-token',
    family: 'pypi',
    description: 'PyPI upload token',
    regex: /(?<![A-Za-z0-9_-])(?<secret>pypi-AgE[A-Za-z0-9_-]{50,400})/,
    keywords: ['pypi-age'],
    severity: 'high',
    // A macaroon ends with a 32-byte signature: a token too short to hold it after its header was cut.
    validate: (secret) => macaroonHoldsSignature(secret),
    examples: {
      match: [fake.pypiToken, () => `password = ${fake.pypiToken()}`],
      noMatch: [
        () => join('pypi-', 'AgE', fake.base64url(10)),
        // The same token cut short: its signature is gone.
        () => `token: ${fake.pypiToken().slice(0, 90)}`,
      ],
    },
  },
  // --- Google / Azure ---
  {
    id: 'google-api-key',
    family: 'gcp',
    description: 'Google API key',
    regex: /(?<![A-Za-z0-9_-])(?<secret>AIza[0-9A-Za-z_-]{35})(?![A-Za-z0-9_-])/,
    keywords: ['aiza'],
    severity: 'high',
    allow: [/abcdefgh|12345678/i],
    minEntropy: 3,
    examples: { match: [() => join('AIza', fake.base64url(35))], noMatch: [() => join('AIza', fake.base64url(20))] },
  },
  {
    id: 'gcp-service-account',
    multiline: true,
    family: 'gcp',
    description: 'GCP service-account key file',
    regex:
      /"private_key"\s{0,5}:\s{0,5}"(?<secret>-----BEGIN[ A-Z]{0,20}PRIVATE KEY-----(?:\\n|\s){0,4}[A-Za-z0-9+/]{40}[^"]{0,6000})"/,
    keywords: ['service_account'],
    severity: 'high',
    examples: {
      match: [
        () =>
          `{\n  "type": "service_account",\n  "project_id": "demo-${fake.lowerAlnum(6)}",\n  "private_key": "-----BEGIN ${'PRIVATE'} KEY-----\\n${fake.base64(64)}\\n-----END PRIVATE KEY-----\\n"\n}`,
      ],
      noMatch: [
        () =>
          `{"type":"service_account","private_key":"-----BEGIN ${'PRIVATE'} KEY-----\\n...\\n-----END PRIVATE KEY-----\\n"}`,
      ],
    },
  },
  {
    id: 'azure-storage-key',
    family: 'azure',
    description: 'Azure storage account key',
    regex:
      /(?:AccountKey=|azure[\w.-]{0,30}key[\w.-]{0,10}["'`]?\s{0,5}[=:]\s{0,5}["'`]?)(?<secret>[A-Za-z0-9+/]{86}==)/i,
    keywords: ['accountkey', 'azure'],
    severity: 'high',
    minEntropy: 4,
    examples: {
      match: [() => `DefaultEndpointsProtocol=https;AccountName=demo;AccountKey=${fake.base64(86)}==;`],
      noMatch: [() => 'AccountKey=<storage-key>'],
    },
  },
  {
    id: 'azure-ad-client-secret',
    family: 'azure',
    description: 'Azure AD (Entra) client secret',
    regex: /(?<![A-Za-z0-9_~.-])(?<secret>[A-Za-z0-9_~.-]{3}\dQ~[A-Za-z0-9_~.-]{31,34})(?![A-Za-z0-9_~.-])/,
    keywords: ['q~'],
    severity: 'high',
    minEntropy: 3,
    examples: {
      match: [() => `client_secret=${join(fake.alnum(3), '8Q~', fake.alnum(34))}`],
      noMatch: [() => join(fake.alnum(3), '8Q~', fake.alnum(10))],
    },
  },
  // --- Private keys ---
  {
    id: 'private-key',
    multiline: true,
    family: 'private-key',
    description: 'Private key (PEM, OpenSSH, PGP, PKCS#8)',
    regex:
      /-----BEGIN[ A-Z0-9]{0,30}PRIVATE KEY(?: BLOCK)?-----(?:\s|\\[rn])*(?:[A-Za-z-]{2,20}:[^\n\\]{0,200}(?:\n|\\n))*(?:\s|\\[rn])*(?<secret>[A-Za-z0-9+/=](?:[A-Za-z0-9+/=\s]|\\[rn]){62,20000})/,
    keywords: ['private key'],
    severity: 'critical',
    minEntropy: 3,
    // AWS's and others' documentation mark a sample key's body with EXAMPLE.
    allow: [/EXAMPLE/],
    examples: {
      match: [
        () =>
          `-----BEGIN ${'RSA'} PRIVATE KEY-----\n${fake.base64(64)}\n${fake.base64(64)}\n-----END RSA PRIVATE KEY-----`,
        () => `"private_key": "-----BEGIN ${'PRIVATE'} KEY-----\\n${fake.base64(64)}\\n-----END PRIVATE KEY-----\\n"`,
        () => `-----BEGIN OPENSSH ${'PRIVATE'} KEY-----\n${fake.base64(70)}\n-----END OPENSSH PRIVATE KEY-----`,
      ],
      noMatch: [
        () => `-----BEGIN PUBLIC KEY-----\n${fake.base64(64)}\n-----END PUBLIC KEY-----`,
        () => `-----BEGIN ${'PRIVATE'} KEY-----\n...\n-----END PRIVATE KEY-----`,
      ],
    },
  },
  {
    id: 'key-container-file',
    family: 'private-key',
    description: 'Committed key store (PKCS#12 .p12/.pfx, Java keystore)',
    regex: /(?<secret>[^/]+\.(?:p12|pfx|jks|keystore))$/i,
    keywords: [],
    pathOnly: true,
    severity: 'high',
    examples: { match: [() => `certs/client-${fake.lowerAlnum(4)}.p12`], noMatch: [() => 'certs/client.pem.pub'] },
  },
  // --- JWT ---
  {
    id: 'jwt',
    family: 'jwt',
    description: 'JSON Web Token',
    regex:
      /(?<![A-Za-z0-9_-])(?<secret>eyJ[A-Za-z0-9_-]{12,2000}\.ey[A-Za-z0-9_-]{12,8000}\.(?:[A-Za-z0-9_-]{8,2000}|(?![A-Za-z0-9_-])))/,
    keywords: ['eyj'],
    severity: 'medium',
    minEntropy: 3,
    // The header is a JSON object: "eyJ" is base64 of `{"`, and the name of its first member
    // follows. Bytes that read as no name there are no header (a garbled or made-up token).
    validate: (secret) =>
      /^\{\s*"[\w$.-]{1,40}"\s*:/.test(Buffer.from(secret.slice(0, 80).split('.')[0]!, 'base64url').toString('latin1')),
    examples: {
      match: [
        () =>
          [
            fake.jsonSegment({ alg: 'HS256', typ: 'JWT' }),
            fake.jsonSegment({ sub: fake.digits(10), name: fake.letters(8) }),
            fake.base64url(43),
          ].join('.'),
      ],
      noMatch: [
        () => 'eyJhbGciOi.notatoken',
        // A header whose first member's name is no text: `{"` and a control byte, then letters.
        () =>
          [
            Buffer.concat([Buffer.from('{"\u007f'), Buffer.from(fake.alnum(24))]).toString('base64url'),
            fake.jsonSegment({ sub: fake.digits(10) }),
            fake.base64url(43),
          ].join('.'),
      ],
    },
  },
  // --- AI providers ---
  {
    id: 'anthropic-api-key',
    family: 'anthropic',
    description: 'Anthropic API or admin key',
    regex:
      /(?<![A-Za-z0-9_-])(?<secret>sk-ant-(?:api|admin|sid|oat|ort)\d{2}-[A-Za-z0-9_-]{80,120}AA)(?![A-Za-z0-9_-])/,
    keywords: ['sk-ant-'],
    severity: 'high',
    minEntropy: 3,
    examples: {
      match: [() => join('sk-ant-', 'api03-', fake.base64url(93), 'AA')],
      noMatch: [() => join('sk-ant-', 'api03-', fake.base64url(10))],
    },
  },
  {
    id: 'openai-api-key',
    family: 'openai',
    description: 'OpenAI API key (project, service account, admin, legacy)',
    regex:
      /(?<![A-Za-z0-9_-])(?<secret>sk-(?:(?:proj|svcacct|admin|None)-)?[A-Za-z0-9_-]{16,200}T3BlbkFJ[A-Za-z0-9_-]{16,200})(?![A-Za-z0-9_-])/,
    keywords: ['t3blbkfj'],
    severity: 'high',
    minEntropy: 3,
    examples: {
      match: [
        () => join('sk-proj-', fake.base64url(74), 'T3Blbk', 'FJ', fake.base64url(74)),
        () => join('sk-', fake.alnum(20), 'T3Blbk', 'FJ', fake.alnum(20)),
      ],
      noMatch: [() => join('sk-', fake.alnum(20))],
    },
  },
  {
    id: 'huggingface-token',
    family: 'huggingface',
    description: 'Hugging Face access or organization token',
    regex: /(?<![A-Za-z0-9_])(?<secret>(?:hf_|api_org_)[A-Za-z]{34})(?![A-Za-z0-9])/,
    keywords: ['hf_', 'api_org_'],
    severity: 'high',
    minEntropy: 3.2,
    examples: {
      match: [() => join('hf_', fake.letters(34)), () => join('api_org_', fake.letters(34))],
      noMatch: [() => join('hf_', fake.letters(10)), () => join('hf_', 'x'.repeat(34))],
    },
  },
  {
    id: 'ai-provider-key',
    family: 'ai',
    description: 'AI provider API key (Groq, Perplexity, Replicate, xAI)',
    regex:
      /(?<![A-Za-z0-9_-])(?<secret>gsk_[A-Za-z0-9]{52}|pplx-[A-Za-z0-9]{40,60}|r8_[A-Za-z0-9]{37}|xai-[A-Za-z0-9]{70,90})(?![A-Za-z0-9])/,
    keywords: ['gsk_', 'pplx-', 'r8_', 'xai-'],
    severity: 'high',
    minEntropy: 3,
    examples: {
      match: [() => join('gsk_', fake.alnum(52)), () => join('pplx-', fake.alnum(48))],
      noMatch: [() => join('gsk_', fake.alnum(10))],
    },
  },
  // --- Chat webhooks: Telegram, DingTalk, WeCom, Feishu/Lark ---
  {
    id: 'telegram-bot-token',
    family: 'telegram',
    description: 'Telegram bot token',
    regex: /(?<![A-Za-z0-9_:-])(?<secret>\d{8,10}:AA[A-Za-z0-9_-]{33})(?![A-Za-z0-9_-])/,
    keywords: [':aa'],
    severity: 'high',
    minEntropy: 3,
    examples: {
      match: [() => `TELEGRAM_BOT_TOKEN=${join(fake.digits(10), ':AA', fake.base64url(33))}`],
      noMatch: [() => join(fake.digits(10), ':AA', fake.base64url(10))],
    },
  },
  {
    id: 'dingtalk-webhook',
    family: 'dingtalk',
    description: 'DingTalk robot webhook access token',
    regex: /oapi\.dingtalk\.com\/robot\/send\?(?:[\w%=-]{0,100}&)?access_token=(?<secret>[0-9a-f]{64})(?![0-9a-f])/i,
    keywords: ['oapi.dingtalk.com'],
    severity: 'high',
    examples: {
      match: [() => join('https://oapi.dingtalk', '.com/robot/send?access_token=', fake.hex(64))],
      noMatch: [() => join('https://oapi.dingtalk', '.com/robot/send?access_token=', '${TOKEN}')],
    },
  },
  {
    id: 'dingtalk-secret',
    family: 'dingtalk',
    description: 'DingTalk robot signing secret (SEC + 64 hex)',
    regex: /(?<![A-Za-z0-9])(?<secret>SEC[0-9a-f]{64})(?![0-9a-zA-Z])/,
    keywords: ['sec'],
    severity: 'high',
    minEntropy: 3,
    examples: {
      match: [() => `DINGTALK_SECRET=${join('SEC', fake.hex(64))}`],
      noMatch: [() => join('SEC', fake.hex(32)), () => join('SEC', '0'.repeat(64))],
    },
  },
  {
    id: 'wecom-webhook',
    family: 'wecom',
    description: 'WeCom (WeChat Work) robot webhook key',
    regex:
      /qyapi\.weixin\.qq\.com\/cgi-bin\/webhook\/send\?key=(?<secret>[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12})/i,
    keywords: ['qyapi.weixin.qq.com'],
    severity: 'high',
    examples: {
      match: [() => join('https://qyapi.weixin', '.qq.com/cgi-bin/webhook/send?key=', fake.uuid())],
      noMatch: [() => join('https://qyapi.weixin', '.qq.com/cgi-bin/webhook/send?key=YOUR_KEY')],
    },
  },
  {
    id: 'feishu-webhook',
    family: 'feishu',
    description: 'Feishu / Lark robot webhook',
    regex:
      /open\.(?:feishu\.cn|larksuite\.com|larkoffice\.com)\/open-apis\/bot\/v2\/hook\/(?<secret>[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12})/i,
    keywords: ['open.feishu.cn', 'open.larksuite.com', 'open.larkoffice.com'],
    severity: 'high',
    examples: {
      match: [
        () => join('https://open.feishu', '.cn/open-apis/bot/v2/hook/', fake.uuid()),
        () => join('https://open.larksuite', '.com/open-apis/bot/v2/hook/', fake.uuid()),
      ],
      noMatch: [() => join('https://open.feishu', '.cn/open-apis/bot/v2/hook/xxxx')],
    },
  },
  // --- Wallet private keys ---
  {
    id: 'wallet-private-key',
    placeholders: true,
    family: 'wallet',
    description: 'Cryptocurrency wallet private key (64 hex)',
    regex:
      /(?:priv(?:ate)?[\w.-]{0,3}key|wallet[\w.-]{0,20}|secret[\w.-]{0,3}key|signer[\w.-]{0,10}key|mnemonic)["'`]?\]?\s{0,5}(?:=|:=|:|=>)\s{0,5}["'`]?(?<secret>(?:0x)?[0-9a-fA-F]{64})(?![0-9a-zA-Z])|accounts["'`]?\s{0,5}:\s{0,5}\[\s{0,5}["'`](?<secret3>(?:0x)?[0-9a-fA-F]{64})(?![0-9a-zA-Z])|(?<![0-9a-zA-Z])(?<!(?:hash|tx|root|digest|block|topic|salt|nonce|id)["'\w]{0,12}\s{0,3}[:=]\s{0,3}["'`]?)(?<secret2>0x[0-9a-fA-F]{64})(?![0-9a-zA-Z])(?!\s{0,3}["'`]?\s{0,3}[,\]}])/i,
    keywords: ['priv', 'wallet', 'secret', 'signer', 'mnemonic', '0x', 'accounts'],
    // A bare 0x… given to a big-number constructor is a number (a curve's p, n, Gx), unless a key's name
    // is on the line: `const privateKey = BigInt("0x…")`.
    validate: (_secret, context) =>
      context.prefix !== '' ||
      !/(?:BigInt|BN|BigNumber(?:\.from)?|hexToBigInt|toBigInt)\(\s{0,3}["'`]?$/.test(context.before) ||
      /priv|secret|wallet|signer|mnemonic|account/i.test(context.before.slice(-60)),
    severity: 'critical',
    minEntropy: 3,
    examples: {
      match: [
        () => `WALLET_PRIVATE_KEY=${fake.hex(64)}`,
        () => `PRIVATE_KEY="0x${fake.hex(64)}"`,
        () => `oops 0x${fake.hex(64)} leaked`,
        // Hardhat's and Truffle's network accounts are private keys; a key is no curve constant for BigInt().
        () => `accounts: ["0x${fake.hex(64)}"],`,
        () => `const privateKey = BigInt("0x${fake.hex(64)}");`,
      ],
      noMatch: [
        // A curve's constants (its p, n, a, b, Gx, Gy) are 256-bit numbers written in hex.
        () => `Gx: BigInt("0x${fake.hex(64)}"),`,
        () => `const CURVE_A = Fp.create(BigInt('0x${fake.hex(64)}'));`,
        () => `PRIVATE_KEY=${'0'.repeat(64)}`,
        () => `commit ${fake.hex(40)}`,
        () => `txHash: "0x${fake.hex(64)}",`,
      ],
    },
  },
  // --- Credentials in URLs and on command lines ---
  {
    id: 'url-credentials',
    placeholders: true,
    family: 'url-credentials',
    description: 'Password inside a URL (user:pass@host)',
    regex:
      /(?<![A-Za-z0-9+.-])(?<scheme>[A-Za-z][A-Za-z0-9+.-]{1,20}):\/\/(?<user>[^\s:@/'"`<>{}]{0,64}):(?!\k<user>@)(?<secret>[^\s@/'"`<>]{4,128})@(?=[A-Za-z0-9[_-])/,
    keywords: ['://'],
    severity: 'high',
    minEntropy: 1.5,
    validate: urlCredentialsValidate,
    allow: [
      ...[/^(?:password|pass|passwd|pwd|secret|\*+|x+|\.+|<[^>]*>|\$\{?\w+\}?|%s|:|\{\w*\}|\[\w*\])$/i],
      // A word that names what goes there: somepassword, authpassword, mypassword1.
      /^[a-z]*password[a-z0-9]*$/,
      /^\$/,
      /^%\(/,
      /^\{\{/,
      /^<.*>$/,
    ],
    examples: {
      match: [
        () => `DATABASE_URL=postgresql://app:${fake.password()}@db:5432/app`,
        () => `REDIS_URL=redis://:${fake.alnum(24)}@127.0.0.1:6379/0`,
        () => `https://deploy:${fake.alnum(16)}@git.example.org/repo.git`,
      ],
      noMatch: [
        () => 'postgresql://user:password@localhost/db',
        () => 'redis://:${REDIS_PASSWORD}@redis:6379',
        () => 'https://user:<token>@host/x',
      ],
    },
  },
  {
    id: 'curl-user-password',
    multiline: true,
    placeholders: true,
    family: 'cmdline-password',
    description: 'Password in a curl -u / --user argument',
    regex:
      /\s(?:-u|--user)(?<=\bcurl(?:[^\n]|\\\r?\n){0,300}?\s(?:-u|--user))(?:\s{1,5}|=)(?<secret>"[^"\n]{2,200}"(?::"[^"\n]{1,200}")?|'[^'\n]{2,200}'|[^\s"'`]{1,100}:(?:'[^'\n]{1,200}'|"[^"\n]{1,200}"|[^\s"'`]{1,200}))/,
    keywords: ['curl'],
    severity: 'high',
    allow: [
      /^["']?[^:]*:["']?\$/,
      /^["']?\$/,
      /:["']?(?:<[^>]*>|\[[^\]]*\]|\{[^}]*\}|\*+|x+|password|passwd|pass|secret|token|test|changeme|example|demo|foo|bar)?["']?$/i,
      /^["']?[^:]*["']?$/,
      /^["']?([^:"']+)["']?:["']?\1["']?$/,
    ],
    examples: {
      match: [
        () => `curl -u admin:${fake.password()} https://127.0.0.1/status`,
        () => `curl -s --user "deploy:${fake.alnum(14)}" https://api.example.org`,
      ],
      noMatch: [
        () => 'curl -u admin:$ADMIN_PASSWORD https://127.0.0.1/',
        () => 'curl -u "$USER:$PASS" https://x',
        () => 'curl -u admin https://x',
      ],
    },
  },
  {
    id: 'http-auth-header',
    multiline: true,
    placeholders: true,
    family: 'cmdline-password',
    description: 'Credential in an Authorization / API-key header (curl, scripts, docs)',
    regex:
      /(?:-H|--header)\s{1,5}["']?(?:Authorization|Proxy-Authorization|X-[A-Za-z-]{0,30}(?:Key|Token)|Api-?Token|Api-?Key|Token|apikey)\s{0,3}:\s{0,3}(?:(?:Basic|Bearer|Token|Api-Token|Digest)\s{1,3})?(?<secret>[^\s"'$<{][^\s"']{7,2000})/i,
    keywords: ['-h', '--header'],
    severity: 'high',
    minEntropy: 2.5,
    allow: [/^\$/, /^<.*>$/, /\$\{?\w+\}?$/],
    examples: {
      match: [
        () => `curl -H "Authorization: Bearer ${fake.alnum(40)}" https://api.example.org`,
        () => `curl -H 'X-Api-Key: ${fake.uuid()}' https://x`,
      ],
      noMatch: [
        () => 'curl -H "Authorization: Bearer $TOKEN" https://x',
        () => 'curl -H "Authorization: Bearer ${API_TOKEN}" https://x',
      ],
    },
  },
  {
    id: 'htpasswd-cli-password',
    placeholders: true,
    family: 'cmdline-password',
    description: 'Password on an htpasswd -b command line',
    regex:
      /\bhtpasswd(?=(?:[ \t]{1,5}-[A-Za-z]{1,6}){0,3}[ \t]{1,5}-[A-Za-z]{0,5}b)(?:[ \t]{1,5}-[A-Za-z]{1,6}){1,4}[ \t]{1,5}(?:[^\s-][^\s]{0,200}[ \t]{1,5}){1,2}(?<secret>[^\s'"`;|&)]{3,128}|'[^'\n]{3,128}'|"[^"\n]{3,128}")(?=\s|$|[;|&)`])/,
    keywords: ['htpasswd'],
    severity: 'high',
    allow: [/^["']?[a-z]{1,12}[,.;:]?["']?$/, /^["']?\$/, /^["']?<.*>["']?$/],
    examples: {
      match: [
        () => `htpasswd -b -c /etc/nginx/.htpasswd admin ${fake.password()}`,
        () => `sudo htpasswd -cbB .htpasswd admin '${fake.password()}'`,
        () => `htpasswd -nbB admin ${fake.alnum(18)}`,
      ],
      noMatch: [
        () => 'htpasswd -c /etc/nginx/.htpasswd admin',
        () => 'htpasswd -b /etc/nginx/.htpasswd admin "$NEW_PASSWORD"',
      ],
    },
  },
  {
    id: 'mysql-cli-password',
    placeholders: true,
    family: 'cmdline-password',
    description: 'Password on a mysql / mysqldump command line (-pPASS, --password=)',
    regex:
      /\bmysql(?:dump|admin|sh|import)?\s(?:[^\n|;&]{0,120}?\s)?(?:-p|--password=)(?<secret>[^\s'"`;|&$<]{3,128}|'[^'\n$]{3,128}'|"[^"\n$]{3,128}")/,
    keywords: ['mysql'],
    severity: 'high',
    allow: [/^["']?[a-z]{1,12}[,.;:]?["']?$/],
    examples: {
      match: [
        () => `mysql -u root -p${fake.password()} app < dump.sql`,
        () => `mysqldump --password=${fake.alnum(14)} app`,
      ],
      noMatch: [() => 'mysql -u root -p app', () => 'mysql -u root -p"$MYSQL_PWD" app'],
    },
  },
  {
    id: 'sshpass-password',
    placeholders: true,
    family: 'cmdline-password',
    description: 'Password on an sshpass -p command line',
    regex:
      /\bsshpass\s(?:-[A-Za-z]\s{1,5}\S{0,100}\s{1,5}){0,3}-p\s{0,5}(?<secret>[^\s'"`;|&$<]{2,128}|'[^'\n$]{2,128}'|"[^"\n$]{2,128}")/,
    keywords: ['sshpass'],
    severity: 'high',
    allow: [/^["']?[a-z]{1,12}[,.;:]?["']?$/],
    examples: {
      match: [
        () => `sshpass -p ${fake.password()} ssh root@10.0.0.1`,
        () => `sshpass -p '${fake.password()}' scp f host:`,
      ],
      noMatch: [() => 'sshpass -p "$SSHPASS" ssh host', () => 'sshpass -e ssh host'],
    },
  },
  {
    id: 'htpasswd-hash',
    multiline: true,
    family: 'htpasswd',
    description: 'Committed htpasswd entry (password hash)',
    regex:
      /^[ \t]{0,8}[A-Za-z0-9_.@-]{1,64}:(?<secret>\$(?:2[abxy]|apr1|1|5|6)\$[./A-Za-z0-9$]{20,120}|\{SHA\}[A-Za-z0-9+/]{27}=)[ \t\r]*$/m,
    keywords: ['$2y$', '$2a$', '$2b$', '$apr1$', '{sha}', '$5$', '$6$', '$1$'],
    severity: 'high',
    examples: {
      match: [
        () => `admin:${join('$2y', '$', '10$', fake.base64(53).replace(/[+]/g, '.'))}`,
        () => `ops:${join('$apr1', '$', fake.alnum(8), '$', fake.alnum(22))}`,
      ],
      noMatch: [() => 'admin:$2y$10$short', () => `hash = "${join('$2y', '$10$')}"`],
    },
  },
  // --- Other providers seen in the wild ---
  {
    id: 'mailchimp-api-key',
    family: 'mailchimp',
    description: 'Mailchimp API key',
    regex: /(?<![A-Za-z0-9])(?<secret>[a-f0-9]{32}-us\d{1,2})(?![A-Za-z0-9])/,
    keywords: ['-us'],
    severity: 'high',
    minEntropy: 3,
    examples: { match: [() => `MAILCHIMP_KEY = "${fake.hex(32)}-us18"`], noMatch: [() => `${fake.hex(12)}-us18`] },
  },
  {
    id: 'kubernetes-secret',
    multiline: true,
    placeholders: true,
    family: 'kubernetes',
    description: 'Kubernetes Secret manifest with data',
    regex:
      /^[ \t]{0,12}(?:data|stringData):[ \t]*\r?\n(?:[ \t]*#[^\n]*\n)*[ \t]{1,12}["']?(?<key>[\w.-]{1,100})["']?:[ \t]*[|>]?[-+]?[ \t]*(?:\r?\n[ \t]{2,16})?["']?(?<secret>[A-Za-z0-9+/]{8,}={0,2})["']?/m,
    keywords: ['kind: secret', 'kind: "secret"', "kind: 'secret'", 'kind:secret'],
    severity: 'high',
    minEntropy: 2,
    examples: {
      match: [
        () =>
          `apiVersion: v1\nkind: Secret\nmetadata:\n  name: db\ntype: Opaque\ndata:\n  password: ${Buffer.from(fake.password()).toString('base64')}\n`,
      ],
      noMatch: [() => 'apiVersion: v1\nkind: ConfigMap\ndata:\n  mode: fast\n'],
    },
  },
  {
    id: 'nuget-config-password',
    placeholders: true,
    family: 'nuget',
    description: 'Clear-text password in a NuGet config',
    regex: /<add\s{1,5}key=["'](?:ClearText)?Password["']\s{1,5}value=["'](?<secret>[^"'\n]{4,200})["']/i,
    keywords: ['password'],
    path: /(?:^|\/)nuget\.config$/i,
    severity: 'high',
    allow: [/^%[A-Za-z_]\w*%$/],
    examples: {
      match: [() => `<add key="ClearTextPassword" value="${fake.password()}" />`],
      noMatch: [() => '<add key="ClearTextPassword" value="%NUGET_PASSWORD%" />'],
    },
  },
  {
    id: 'secretlint-style-aws-account',
    family: 'aws',
    description: 'AWS account id assigned to an account-id variable',
    regex: /aws[\w.-]{0,10}account[\w.-]{0,10}["'`]?\s{0,5}(?:=|:|=>)\s{0,5}["'`]?(?<secret>\d{12})(?!\d)/i,
    keywords: ['account'],
    severity: 'low',
    // The ids AWS's own documentation uses: 111122223333, 123456789012.
    allow: [/^(\d)\1{3}(\d)\2{3}(\d)\3{3}$/, /0123456|1234567|2345678|3456789/],
    examples: {
      match: [() => `AWS_ACCOUNT_ID=${fake.digits(12)}`],
      noMatch: [() => `AWS_ACCOUNT_ID=${fake.digits(5)}`],
    },
  },
  {
    id: 'sidekiq-secret',
    family: 'sidekiq',
    description: 'Sidekiq Enterprise / Pro gem server credential',
    regex:
      /BUNDLE_(?:ENTERPRISE|GEMS)__CONTRIBSYS__COM["']?[ \t]{0,3}[:=][ \t]{0,3}["']?(?<secret>[a-f0-9]{8}:[a-f0-9]{8})(?![a-f0-9])/i,
    keywords: ['contribsys'],
    severity: 'high',
    minEntropy: 2.5,
    examples: {
      match: [() => `export BUNDLE_GEMS__CONTRIBSYS__COM=${fake.hex(8)}:${fake.hex(8)}`],
      noMatch: [() => 'BUNDLE_GEMS__CONTRIBSYS__COM=$SIDEKIQ'],
    },
  },
  {
    id: 'facebook-app-token',
    family: 'facebook',
    description: 'Facebook app access token (app id|app secret)',
    regex: /facebook[^\n]{0,40}?(?<![0-9])(?<secret>\d{15,16}\|[A-Za-z0-9_-]{27})(?![A-Za-z0-9_-])/i,
    keywords: ['facebook'],
    severity: 'high',
    minEntropy: 2.5,
    examples: {
      match: [() => `facebook ${fake.digits(15)}|${fake.base64url(27)}`],
      noMatch: [() => 'facebook a | b | c'],
    },
  },
  {
    id: 'terraform-cloud-token',
    family: 'terraform',
    description: 'Terraform Cloud / Enterprise API token',
    regex: /(?<![A-Za-z0-9])(?<secret>[a-zA-Z0-9]{14}\.atlasv1\.[A-Za-z0-9_=-]{60,70})(?![A-Za-z0-9_=-])/,
    keywords: ['atlasv1'],
    severity: 'high',
    minEntropy: 2.5,
    examples: {
      match: [() => join(fake.alnum(14), '.atlasv1.', fake.base64url(67))],
      noMatch: [() => join(fake.alnum(14), '.atlasv1.', fake.base64url(10))],
    },
  },
  ...prefixedRules,
  ...namedRules,
  ...contextRules,
  ...opsFileRules,
  // --- Generic: a high-entropy value assigned to a secret-like name ---
  {
    id: 'generic-secret-assignment',
    anchored: true,
    placeholders: true,
    family: 'generic',
    description:
      'High-entropy value assigned to a secret-like name (*SECRET*, *TOKEN*, *PASSWORD*, *API_KEY*, *PRIVATE_KEY*)',
    regex: new RegExp(`${GENERIC_NAME}${GENERIC_TAIL}${GENERIC_OPERATOR}${GENERIC_VALUE}`, 'i'),
    validate: genericValidate,
    keywords: [
      'secret',
      'token',
      'pass',
      'pwd',
      'api_key',
      'api-key',
      'api.key',
      'apikey',
      'private_key',
      'private-key',
      'private.key',
      'privatekey',
      'access_key',
      'access-key',
      'access.key',
      'accesskey',
      'auth',
      'credential',
      'signing',
      'encryption',
      'master',
      'session',
    ],
    severity: 'medium',
    allow: [
      /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i,
      /^sha(?:1|256|384|512)-/,
      /^(?:\.{0,2}\/|~\/|[A-Za-z]:\\)/,
      /\.(?:json|ya?ml|txt|pem|key|crt|env|js|ts|py|html|php|rb|go|java)$/i,
      /^-?\d+$/,
      // Signs only: a set of characters (TOKEN_SPECIALS = r"!#$%&'*+-.^_`|~"), not a secret.
      /^[^A-Za-z0-9]+$/,
      /^(?:true|false|null|none)\b/i,
      // A date and time (PasswordLastUsed).
      /^\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}/,
      /\.{2,}/,
      /^-----/,
      /^[a-z][a-z0-9+.-]*:\/\//i,
      /^[a-z]+(?:_[a-z0-9]+)+$/,
      /:$/,
      /^(?:[a-z0-9_.-]+\/)+[a-z0-9_.-]+(?:#[a-z_]+)?$/,
      // An ARN names a resource; a kebab-case #id or .class is a CSS selector.
      /^arn:aws[\w-]*:/,
      // A regular expression (a rule's pattern) is not a secret.
      /\(\?(?:[:=!]|<[=!a-z])|\[[^\]]{1,40}\]\{\d/,
      /^[#.][a-z][a-z0-9]*(?:-[a-z0-9]+)+$/,
      /^[A-Za-z_$][A-Za-z_$]*\??\.[A-Za-z_$]/,
      /0123456|123456789|abcdefgh|qwerty/i,
    ],
    examples: {
      // Random alphanumerics end in a digit: a letters-only value is judged a word by design (0.1–0.4% of
      // random draws), which made this test fail now and then.
      match: [
        () => `JWT_SECRET_KEY=${fake.alnum(39)}7`,
        () => `api_key: "${fake.alnum(31)}4"`,
        () => `"clientSecret": "${fake.alnum(24)}1"`,
        () => `DB_PASSWORD = '${fake.password(18)}'`,
        () => `export GITEA_TOKEN=${fake.hex(40)}a`,
        () => `[auth]\ntoken = ${fake.base64url(30)}9`,
        () => `if username == "admin" and password == "${fake.password(14)}":`,
        () => `password = "${fake.alnum(6)}{{}}$(${fake.alnum(6)})"`,
        // 12 letters: 9 random ones repeat often enough to fall under the password entropy floor (2.5 bits).
        () => `auth_pass: "${fake.letters(12)}"`,
        () => `this.Context.Add("ApiKey", "${fake.alnum(29)}2");`,
        () => `{ "ApiKey", "${fake.alnum(29)}5" },`,
        () => `private static String CLIENT_SECRET = "${fake.hex(40)}";`,
        () => `export const API_TOKEN = process.env.API_TOKEN || "${fake.alnum(31)}8";`,
        () => `API_TOKEN = os.environ.get("API_TOKEN", "${fake.alnum(31)}3")`,
        () => `api_token = os.getenv("API_TOKEN") or "${fake.alnum(31)}6"`,
      ],
      noMatch: [
        () => 'SECRET_KEY=change-in-production',
        () => 'API_TOKEN=YOUR_TOKEN_HERE',
        () => 'password: <from-vault>',
        () => 'token = os.environ["API_TOKEN"]',
        () => 'const token = process.env.API_TOKEN;',
        () => 'SECRET=${SECRET}',
        () => 'PASSWORD=$DB_PASSWORD',
        () => 'api_key = "xxxxxxxxxxxxxxxxxxxx"',
        () => `session_token: ${fake.uuid()}`,
        () => `commit_token = ${fake.hex(40)}`,
        () => 'tokenizer = buildTokenizer',
        () => `integrity: sha512-${fake.base64(86)}==`,
        () => `put '/forgot-password' => "cms/sites/passwords#update", as: 'update_password'`,
        () => 'ChangePassword = "arn:aws:iam::aws:policy/IAMUserChangePassword"',
        () => 'this.addPassword = "#add-password";',
        () => `api_secret: "${Buffer.from('super secret value').toString('base64')}"`,
        () => `secret_access_key = '${'abcdefg'}${fake.alnum(10)}'`,
        () => `VERCEL_TOKEN: "${fake.alnum(12)}?${fake.alnum(11)}"`,
        () => `GEMINI_API_KEY=${join('AIza', fake.base64url(30))}`,
        () => `password = ${fake.letters(12)}`,
        () => `runSecrets(['rotate', 'dashboard-password', '${fake.alnum(8)}-stdin'])`,
        () => `type PasswordScheme = 'bcrypt' | 'argon';`,
        () => `keywords: ['credential', 'passwordauthentication', 'basicauth'],`,
        () => `"two.htpasswd": "a:${fake.alnum(8)}\\nb:${fake.alnum(8)}"`,
        () => 'accepts keys that are password-protected or broken.',
        // A handle, a marker, an assembly's public key hash, a badge's embedded read token.
        () => `- basic-auth: @${fake.lower(10)}`,
        () => `marker_token = '#${fake.lower(11)}'`,
        () => `<assemblyIdentity name="a" publicKeyToken="${fake.hex(16)}"/>`,
        () => `![coverage](https://codecov.io/gh/o/r/graph/badge.svg?branch=main&token=${fake.alnum(10)})`,
        () => `if (typeof this.password === 'function') {`,
        // A page's and a request's token, a type's name, a constant naming itself, a date, a JSON document.
        () => `"NextToken": "${fake.base64(60)}",`,
        () => `"AWS::IAM::AccessKey": "${fake.hex(16)}",`,
        () => 'FORCE_CHANGE_PASSWORD = "FORCE_CHANGE_PASSWORD"',
        () => '"PasswordLastUsed": "2016-09-08T21:47:36Z",',
        () => `"Password": "generatedwebdavpassword${fake.digits(1)}",`,
        // A test report's status, a PKCS#11 token label, a patch's name, an interpolated variable.
        () => `PASS: ${fake.lower(5)}\nPASS: ${fake.lower(4)}2line -${fake.lower(1)} option`,
        () => 'p11-kit: pkcs11:token=Root%20CA%20Certificates;serial=1%3AROOTS',
        () => `- 118_arm_pass_all.dpatch: Regenerated${fake.digits(2)}.`,
        () => join('"-au', 'th=anonymous:$FROM', '_EMAIL', fake.digits(2), '",'),
      ],
    },
  },
  {
    id: 'generic-secret-comparison',
    placeholders: true,
    family: 'generic',
    description: 'A literal compared with a secret-like name ("…" === password)',
    regex: GENERIC_REVERSED,
    keywords: ['secret', 'token', 'passw', 'api_key', 'apikey', 'private_key', 'privatekey'],
    severity: 'medium',
    minEntropy: 2.5,
    allow: [/^[A-Za-z_-]+$/, /^\d+$/],
    examples: {
      match: [() => `if ("${fake.password()}" === private_key) {`],
      noMatch: [() => 'if ("" === password) {', () => `if ("password" == field_name)`],
    },
  },
];
