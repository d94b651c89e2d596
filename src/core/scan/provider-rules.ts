import type { Rule, Severity } from './types.js';
import { fake, join } from './fake-values.js';
import { SEQUENTIAL_RUN, shannonEntropy } from './entropy.js';
import { checksumFails } from './checksums.js';

/*
 * Provider rules, one id per provider. Three shapes:
 * - prefixed(): a token its provider marks with a fixed prefix, found wherever it appears;
 * - named(): a key assigned to a variable that names the provider (SNYK_TOKEN = ...), with the
 *   provider's own value format where it is known (length, alphabet, suffix);
 * - context rules written out: webhooks, connection strings, key files, XML elements.
 * Every value must end at a delimiter, so a value with one wrong character (a near miss) does
 * not match by its first half. Examples are built at test time from parts (fake-values.ts).
 */

/** The characters around a prefixed token that mean it is part of a longer word. */
const BEFORE = '(?<![A-Za-z0-9_.-])';
const AFTER = '(?![A-Za-z0-9_-])';

interface PrefixedSpec {
  id: string;
  family: string;
  description: string;
  /** Regex source of the whole token (prefix included). */
  token: string;
  keywords: string[];
  match: Array<() => string>;
  /** Default: the prefix with a few characters, too short to be a token. */
  noMatch?: Array<() => string>;
  /** More values that are not secrets, beyond the masks every prefixed rule refuses. */
  allow?: RegExp[];
  severity?: Severity;
  minEntropy?: number;
  before?: string;
  after?: string;
  validate?: Rule['validate'];
  flags?: string;
}

function prefixed(spec: PrefixedSpec): Rule {
  const rule: Rule = {
    id: spec.id,
    family: spec.family,
    description: spec.description,
    regex: new RegExp(`${spec.before ?? BEFORE}(?<secret>${spec.token})${spec.after ?? AFTER}`, spec.flags ?? ''),
    keywords: spec.keywords,
    severity: spec.severity ?? 'high',
    minEntropy: spec.minEntropy ?? 3,
    allow: [/X{5,}|x{5,}/, /YOUR_|_HERE/i, ...(spec.allow ?? [])],
    examples: {
      match: spec.match,
      noMatch: spec.noMatch ?? [() => `${spec.keywords[0] ?? ''}${fake.alnum(4)}`],
    },
  };
  if (spec.validate) rule.validate = spec.validate;
  return rule;
}

/** Prefixes of known providers: a value carrying one is judged by that provider's rule alone. */
export const KNOWN_PREFIXES = [
  'ghp_',
  'gho_',
  'ghu_',
  'ghs_',
  'ghr_',
  'github_pat_',
  'glpat-',
  'xoxa-',
  'xoxb-',
  'xoxp-',
  'xoxr-',
  'xoxe-',
  'xapp-',
  'sk_live_',
  'sk_test_',
  'rk_live_',
  'rk_test_',
  'pk_live_',
  'pk_test_',
  'npm_',
  'pypi-',
  'aiza',
  'sk-ant-',
  'sk-proj-',
  'sk-svcacct-',
  'sk-admin-',
  'hf_',
  'gsk_',
  'pplx-',
  'r8_',
  'xai-',
  'shpat_',
  'shpca_',
  'shppa_',
  'shpss_',
  'ntn_',
  'lin_api_',
  'dckr_pat_',
  'hvs.',
  'hvb.',
  'glc_',
  'glsa_',
  'tskey-',
  'sgp_',
  'sqp_',
  'squ_',
  'sntrys_',
  'sntryu_',
  'dop_v1_',
  'doo_v1_',
  'dor_v1_',
  'pul-',
  'pmak-',
  'rdme_',
  'sbp_',
  'pscale_tkn_',
  'pscale_pw_',
  'rubygems_',
  'nfp_',
  'nrak-',
  'akia',
  'asia',
  'atatt',
  'lsv2_',
  'dt0c01.',
];

export function hasKnownPrefix(value: string): boolean {
  const lower = value.toLowerCase();
  return KNOWN_PREFIXES.some((prefix) => lower.startsWith(prefix));
}

const UUID = '[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}';

export const prefixedRules: Rule[] = [
  prefixed({
    id: 'shopify-token',
    family: 'shopify',
    description: 'Shopify access token or shared secret',
    token: 'shp(?:at|ca|pa|ss)_[a-zA-Z0-9]{32,40}',
    keywords: ['shpat_', 'shpca_', 'shppa_', 'shpss_'],
    match: [() => join('shpat_', fake.hex(32))],
  }),
  prefixed({
    id: 'notion-token',
    family: 'notion',
    description: 'Notion integration token',
    token: 'ntn_\\d{11}[A-Za-z0-9]{35}|secret_[A-Za-z0-9]{43}',
    keywords: ['ntn_', 'secret_'],
    match: [() => join('ntn_', fake.digits(11), fake.alnum(35)), () => join('secret_', fake.alnum(43))],
    noMatch: [() => 'secret_key_base', () => join('ntn_', fake.digits(4))],
  }),
  prefixed({
    id: 'linear-token',
    family: 'linear',
    description: 'Linear API key or OAuth token',
    token: 'lin_api_[A-Za-z0-9]{40}|lin_oauth_[a-f0-9]{64}',
    keywords: ['lin_api_', 'lin_oauth_'],
    match: [() => join('lin_api_', fake.alnum(40))],
  }),
  prefixed({
    id: 'docker-hub-token',
    family: 'docker',
    description: 'Docker Hub personal or organization access token',
    token: 'dckr_pat_[A-Za-z0-9_-]{27,}|dckr_oat_[A-Za-z0-9_-]{32,}',
    keywords: ['dckr_'],
    match: [() => join('dckr_pat_', fake.base64url(27))],
    noMatch: [() => join('dckr_pat_', 'x')],
  }),
  prefixed({
    id: 'figma-token',
    family: 'figma',
    description: 'Figma personal access token',
    token: 'fig[dhu]_[A-Za-z0-9_-]{40,}',
    keywords: ['figd_', 'figh_', 'figu_'],
    match: [() => join('figd_', fake.base64url(40))],
  }),
  prefixed({
    id: 'doppler-token',
    family: 'doppler',
    description: 'Doppler token (personal, service, service account, CLI, SCIM, audit)',
    // Service tokens may name their environment: dp.st.<env>.<token>.
    token: 'dp\\.(?:pt|st|sa|ct|scim|audit)\\.(?:[a-z0-9_-]{2,35}\\.)?[A-Za-z0-9]{40,44}',
    keywords: ['dp.'],
    match: [() => join('dp.pt.', fake.alnum(43)), () => join('dp.st.', 'dev.', fake.alnum(43))],
    noMatch: [() => join('dp.st.', fake.alnum(10))],
  }),
  prefixed({
    id: 'vault-token',
    family: 'vault',
    description: 'HashiCorp Vault token (service, batch, recovery)',
    token: 'hv[sbr]\\.[A-Za-z0-9_-]{24,400}',
    keywords: ['hvs.', 'hvb.', 'hvr.'],
    match: [() => join('hvs.', fake.base64url(90))],
  }),
  prefixed({
    id: 'grafana-token',
    family: 'grafana',
    description: 'Grafana cloud token, service account token or API key',
    // An API key is base64 of {"k":"…","n":"…","id":…}: it always starts eyJrIjoi.
    token: 'glc_[A-Za-z0-9+/]{32,400}={0,2}|glsa_[A-Za-z0-9]{32}_[a-fA-F0-9]{8}|eyJrIjoi[A-Za-z0-9+/]{40,400}={0,2}',
    keywords: ['glc_', 'glsa_', 'eyjrijoi'],
    match: [
      () => join('glsa_', fake.alnum(32), '_', fake.hex(8)),
      () => fake.jsonSegment({ k: fake.alnum(32), n: 'deploy', id: 1 }).replace(/[-_]/g, 'A'),
    ],
    after: '(?![A-Za-z0-9_=-])',
  }),
  prefixed({
    id: 'tailscale-key',
    family: 'tailscale',
    description: 'Tailscale auth or API key',
    // Key id and secret may carry `_`.
    token: 'tskey-[a-z]{3,10}-[A-Za-z0-9_]{6,}-[A-Za-z0-9_]{16,}',
    keywords: ['tskey-'],
    match: [
      () => join('tskey-api-', fake.alnum(12), '-', fake.alnum(30)),
      () => join('tskey-', fake.lower(8), '-', fake.alnum(20), '_', fake.alnum(40), '-', fake.alnum(30)),
    ],
    noMatch: [() => join('tskey-', fake.lower(8), '-', fake.alnum(20), '?', fake.alnum(40), '-', fake.alnum(30))],
  }),
  prefixed({
    id: 'sourcegraph-token',
    family: 'sourcegraph',
    description: 'Sourcegraph access token',
    token: 'sgp_(?:local_|[a-fA-F0-9]{16}_)?[a-fA-F0-9]{40}',
    keywords: ['sgp_'],
    match: [() => join('sgp_', fake.hex(40))],
  }),
  prefixed({
    id: 'sonarqube-token',
    family: 'sonar',
    description: 'SonarQube / SonarCloud token',
    token: 'sq[pua]_[A-Za-z0-9]{40}',
    keywords: ['sqp_', 'squ_', 'sqa_'],
    match: [() => join('squ_', fake.alnum(40))],
  }),
  prefixed({
    id: 'flyio-token',
    family: 'flyio',
    description: 'Fly.io access token',
    token: 'fo1_[A-Za-z0-9_-]{43}|FlyV1 fm[12][ar]?_[A-Za-z0-9+/]{100,}={0,3}',
    keywords: ['fo1_', 'flyv1'],
    match: [() => join('fo1_', fake.base64url(43))],
  }),
  prefixed({
    id: 'databricks-token',
    family: 'databricks',
    description: 'Databricks access token',
    token: 'dapi[a-fA-F0-9]{32}(?:-\\d)?',
    keywords: ['dapi'],
    match: [() => join('dapi', fake.hex(32))],
  }),
  prefixed({
    id: 'openshift-token',
    family: 'openshift',
    description: 'OpenShift user token',
    token: 'sha256~[A-Za-z0-9_-]{43}',
    keywords: ['sha256~'],
    match: [() => join('sha256~', fake.base64url(43))],
  }),
  prefixed({
    id: 'square-token',
    family: 'square',
    description: 'Square access token or OAuth secret',
    token: 'sq0atp-[A-Za-z0-9_-]{22}|sq0csp-[A-Za-z0-9_-]{43}|EAAA[A-Za-z0-9_-]{60}',
    keywords: ['sq0atp-', 'sq0csp-', 'eaaa'],
    match: [() => join('sq0csp-', fake.base64url(43)), () => join('EAAA', fake.base64url(60))],
  }),
  prefixed({
    id: 'sentry-token',
    family: 'sentry',
    description: 'Sentry organization or user auth token',
    token: 'sntrys_eyJ[A-Za-z0-9+/=_-]{60,}|sntryu_[a-f0-9]{64}',
    keywords: ['sntrys_', 'sntryu_'],
    match: [() => join('sntryu_', fake.hex(64))],
    after: '(?![A-Za-z0-9_+/=-])',
  }),
  prefixed({
    id: 'heroku-token',
    family: 'heroku',
    description: 'Heroku platform token',
    token: 'HRKU-[A-Za-z0-9_-]{60}',
    keywords: ['hrku-'],
    match: [() => join('HRKU-', fake.base64url(60))],
  }),
  prefixed({
    id: 'scalingo-token',
    family: 'scalingo',
    description: 'Scalingo API token',
    token: 'tk-us-[A-Za-z0-9_-]{48}',
    keywords: ['tk-us-'],
    match: [() => join('tk-us-', fake.base64url(48))],
  }),
  prefixed({
    id: 'intra42-client-secret',
    family: 'intra42',
    description: '42 Intra client secret',
    token: 's-s4t2(?:ud|af)-[a-f0-9]{64}',
    keywords: ['s-s4t2'],
    match: [() => join('s-s4t2', 'ud-', fake.hex(64))],
  }),
  prefixed({
    id: 'infracost-token',
    family: 'infracost',
    description: 'Infracost API token',
    token: 'ico-[A-Za-z0-9]{32}',
    keywords: ['ico-'],
    match: [() => join('ico-', fake.alnum(32))],
  }),
  prefixed({
    id: 'atlassian-token',
    family: 'atlassian',
    description: 'Atlassian API token (Jira, Confluence)',
    // Real tokens end in =<8 hex> (a checksum); the body is about 180 characters.
    token: 'ATATT[A-Za-z0-9_=-]{180,}|AT[AC]TT3xFfG[A-Za-z0-9_=-]{140,}=[A-F0-9]{8}',
    keywords: ['atatt', 'atctt'],
    match: [() => join('ATATT', '3xFfGF0', fake.base64url(180), '=', fake.hex(8).toUpperCase())],
  }),
  prefixed({
    id: 'age-secret-key',
    family: 'age',
    description: 'age encryption secret key',
    token: 'AGE-SECRET-KEY-1[QPZRY9X8GF2TVDW0S3JN54KHCE6MUA7L]{58}',
    keywords: ['age-secret-key-1'],
    match: [() => join('AGE-SECRET-KEY-1', fake.upperAlnum(58).replace(/[BIO1]/g, 'Q'))],
  }),
  prefixed({
    id: '1password-token',
    family: '1password',
    description: '1Password service account token or secret key',
    token:
      'ops_eyJ[A-Za-z0-9+/=]{100,}|A3-[A-Z0-9]{6}-(?:[A-Z0-9]{11}|[A-Z0-9]{6}-[A-Z0-9]{5})-[A-Z0-9]{5}-[A-Z0-9]{5}-[A-Z0-9]{5}',
    keywords: ['ops_eyj', 'a3-'],
    match: [() => join('ops_', 'eyJ', fake.alnum(120))],
    after: '(?![A-Za-z0-9_+/=-])',
  }),
  prefixed({
    id: 'pulumi-token',
    family: 'pulumi',
    description: 'Pulumi access token',
    // Hex today; the token service has issued lower-case alphanumerics of the same length.
    token: 'pul-[a-z0-9]{40}',
    allow: [SEQUENTIAL_RUN],
    keywords: ['pul-'],
    match: [() => join('pul-', fake.hex(40)), () => join('pul-', fake.lowerAlnum(40))],
    noMatch: [
      () => join('pul-', fake.lowerAlnum(20), '?', fake.lowerAlnum(19)),
      () => join('pul-', 'abcdefghij', fake.hex(30)),
    ],
  }),
  prefixed({
    id: 'postman-api-key',
    family: 'postman',
    description: 'Postman API key',
    // Today a key id and a secret in hex; older keys are 59 alphanumerics.
    token: 'PMAK-[a-f0-9]{24}-[a-f0-9]{34}|PMAK-[A-Za-z0-9]{59}',
    allow: [SEQUENTIAL_RUN],
    keywords: ['pmak-'],
    match: [() => join('PMAK-', fake.hex(24), '-', fake.hex(34)), () => join('PMAK-', fake.alnum(59))],
    noMatch: [() => join('PMAK-', fake.alnum(30), '?', fake.alnum(28))],
  }),
  prefixed({
    id: 'digitalocean-token',
    family: 'digitalocean',
    description: 'DigitalOcean personal access, OAuth or refresh token',
    token: 'do[opr]_v1_[a-f0-9]{64}',
    keywords: ['dop_v1_', 'doo_v1_', 'dor_v1_'],
    match: [() => join('dop_v1_', fake.hex(64)), () => join('dor_v1_', fake.hex(64))],
  }),
  prefixed({
    id: 'vercel-token',
    family: 'vercel',
    description: 'Vercel access token',
    token: 'vc[pkari]_[A-Za-z0-9]{56}',
    keywords: ['vcp_', 'vck_', 'vca_', 'vcr_', 'vci_'],
    match: [() => join('vcp_', fake.alnum(56))],
  }),
  prefixed({
    id: 'readme-api-key',
    family: 'readme',
    description: 'ReadMe API key',
    token: 'rdme_[a-z0-9]{70}',
    keywords: ['rdme_'],
    match: [() => join('rdme_', fake.lowerAlnum(70))],
  }),
  prefixed({
    id: 'mailgun-api-key',
    family: 'mailgun',
    description: 'Mailgun API key',
    token: 'key-[a-f0-9]{32}',
    keywords: ['key-'],
    match: [() => join('key-', fake.hex(32))],
  }),
  prefixed({
    id: 'octopus-deploy-api-key',
    family: 'octopus',
    description: 'Octopus Deploy API key',
    token: 'API-[A-Z0-9]{26}',
    keywords: ['api-'],
    match: [() => join('API-', fake.upperAlnum(26))],
  }),
  prefixed({
    id: 'facebook-access-token',
    family: 'facebook',
    description: 'Facebook (Meta) access token',
    token: 'EAA[MC][A-Za-z0-9]{100,}',
    keywords: ['eaam', 'eaac'],
    match: [() => join('EAAM', fake.alnum(120))],
  }),
  prefixed({
    id: 'cloudflare-token',
    family: 'cloudflare',
    description: 'Cloudflare user or account API token, or origin CA key',
    token: 'cf(?:ut|at)_[A-Za-z0-9]{40}[a-f0-9]{8}|v1\\.0-[a-f0-9]{24}-[a-f0-9]{146}',
    keywords: ['cfut_', 'cfat_', 'v1.0-'],
    match: [() => join('cfut_', fake.alnum(40), fake.hex(8)), () => join('v1.0-', fake.hex(24), '-', fake.hex(146))],
  }),
  prefixed({
    id: 'dropbox-token',
    family: 'dropbox',
    description: 'Dropbox short-lived access token',
    token: 'sl\\.[A-Za-z0-9_-]{130,}',
    keywords: ['sl.'],
    match: [() => join('sl.', fake.base64url(140))],
  }),
  prefixed({
    id: 'airtable-token',
    family: 'airtable',
    description: 'Airtable personal access token',
    token: 'pat[A-Za-z0-9]{14}\\.[a-f0-9]{64}',
    keywords: ['pat'],
    match: [() => join('pat', fake.alnum(14), '.', fake.hex(64))],
    noMatch: [() => join('pat', fake.alnum(14), '.', fake.hex(10))],
  }),
  prefixed({
    id: 'alibaba-access-key-id',
    family: 'alibaba',
    description: 'Alibaba Cloud AccessKey id',
    token: 'LTAI[A-Za-z0-9]{12,20}',
    keywords: ['ltai'],
    match: [() => join('LTAI', fake.alnum(20))],
    before: '(?<![A-Za-z0-9])',
    after: '(?![A-Za-z0-9])',
  }),
  prefixed({
    id: 'artifactory-token',
    family: 'artifactory',
    description: 'JFrog Artifactory API key or reference token',
    token: 'AKCp[A-Za-z0-9]{69}|cmVmdGtuOjAxOj[A-Za-z0-9]{50,}',
    keywords: ['akcp', 'cmvmdgtuojaxoj'],
    match: [() => join('AKCp', fake.alnum(69))],
    before: '(?<![A-Za-z0-9])',
    after: '(?![A-Za-z0-9])',
  }),
  prefixed({
    id: 'dynatrace-token',
    family: 'dynatrace',
    description: 'Dynatrace API token',
    token: 'dt0c01\\.[A-Z0-9]{24}\\.[A-Z0-9]{64}',
    keywords: ['dt0c01.'],
    match: [() => join('dt0c01.', fake.upperAlnum(24), '.', fake.upperAlnum(64))],
  }),
  prefixed({
    id: 'newrelic-key',
    family: 'newrelic',
    description: 'New Relic user, admin, ingest, query, browser or license key',
    // A license key is 40 characters ending in NRAL (eu01xx… in the EU region).
    token:
      'NRAK-[A-Z0-9]{27}|NRAA-[a-f0-9]{27}|NRI[IQ]-[A-Za-z0-9_-]{32}|NRJS-[a-f0-9]{19}|NRRA-[a-f0-9]{42}|(?:eu01xx[a-f0-9]{30}|[a-f0-9]{36})NRAL',
    keywords: ['nrak-', 'nraa-', 'nrii-', 'nriq-', 'nrjs-', 'nrra-', 'nral'],
    match: [() => join('NRAK-', fake.upperAlnum(27)), () => join(fake.hex(36), 'NRAL')],
    noMatch: [() => join('NRAK-', fake.upperAlnum(26)), () => join(fake.hex(30), 'NRAL')],
    before: '(?<![A-Za-z0-9_-])',
  }),
  prefixed({
    id: 'langsmith-api-key',
    family: 'langsmith',
    description: 'LangSmith API key or personal token',
    token: 'lsv2_(?:pt|sk)_[a-f0-9]{32}_[a-f0-9]{10}',
    keywords: ['lsv2_'],
    match: [() => join('lsv2_', 'pt_', fake.hex(32), '_', fake.hex(10))],
  }),
  prefixed({
    id: 'elevenlabs-api-key',
    family: 'elevenlabs',
    description: 'ElevenLabs API key',
    token: 'sk_[a-f0-9]{48}',
    keywords: ['sk_'],
    match: [() => join('sk_', fake.hex(48))],
  }),
  prefixed({
    id: 'rubygems-api-key',
    family: 'rubygems',
    description: 'RubyGems API key',
    token: 'rubygems_[a-z0-9]{48}',
    keywords: ['rubygems_'],
    match: [() => join('rubygems_', fake.hex(48))],
  }),
  prefixed({
    id: 'supabase-token',
    family: 'supabase',
    description: 'Supabase personal access or secret key',
    token: 'sbp_[a-z0-9]{40}|sb_secret_[A-Za-z0-9_-]{31}',
    keywords: ['sbp_', 'sb_secret_'],
    match: [() => join('sbp_', fake.hex(40))],
  }),
  prefixed({
    id: 'planetscale-token',
    family: 'planetscale',
    description: 'PlanetScale service token or password',
    token: 'pscale_(?:tkn|pw|oauth)_[A-Za-z0-9_.-]{32,64}',
    keywords: ['pscale_'],
    match: [() => join('pscale_tkn_', fake.alnum(43))],
  }),
  prefixed({
    id: 'netlify-token',
    family: 'netlify',
    description: 'Netlify personal access token',
    token: 'nfp_[A-Za-z0-9]{36}',
    keywords: ['nfp_'],
    match: [() => join('nfp_', fake.alnum(36))],
  }),
  prefixed({
    id: 'cratesio-token',
    family: 'cratesio',
    description: 'crates.io API token',
    token: 'cio[A-Za-z0-9]{32}',
    keywords: ['cio'],
    match: [() => `Bearer: ${join('cio', fake.alnum(32))}`],
    before: '(?<![A-Za-z0-9])',
    after: '(?![A-Za-z0-9])',
    minEntropy: 3.5,
  }),
  prefixed({
    id: 'google-oauth-token',
    family: 'gcp',
    description: 'Google OAuth access or refresh token',
    token: 'ya29\\.[A-Za-z0-9_-]{30,}|1//0[A-Za-z0-9_-]{40,}',
    keywords: ['ya29.', '1//0'],
    match: [() => join('ya29.', fake.base64url(60)), () => join('1//0', fake.base64url(60))],
    before: '(?<![A-Za-z0-9_./-])',
  }),
  prefixed({
    id: 'nuget-api-key',
    family: 'nuget',
    description: 'NuGet.org API key',
    token: 'oy2[a-z0-9]{43}',
    keywords: ['oy2'],
    match: [
      () => `nuget push pkg.nupkg ${join('oy2', fake.lowerAlnum(43))} -Source https://api.nuget.org/v3/index.json`,
    ],
    before: '(?<![A-Za-z0-9])',
    after: '(?![A-Za-z0-9])',
  }),
  prefixed({
    id: 'azure-devops-pat',
    family: 'azure',
    description: 'Azure DevOps personal access token (84 characters, AZDO signature)',
    token: '[A-Za-z0-9]{52}JQQJ9[9DH][A-Za-z0-9]{18}AZDO[A-Za-z0-9]{4}',
    keywords: ['azdo'],
    match: [() => join(fake.alnum(52), 'JQQJ99', fake.alnum(18), 'AZDO', fake.alnum(4))],
    before: '(?<![A-Za-z0-9])',
    after: '(?![A-Za-z0-9])',
  }),
  prefixed({
    id: 'azure-container-registry-password',
    family: 'azure',
    description: 'Azure Container Registry access key (+ACR signature)',
    token: '[A-Za-z0-9+/]{42}\\+ACR[A-Za-z0-9]{6}',
    keywords: ['+acr'],
    match: [() => `docker login demo.azurecr.io -u demo -p ${join(fake.alnum(42), '+ACR', fake.alnum(6))}`],
    before: '(?<![A-Za-z0-9+/])',
    after: '(?![A-Za-z0-9+/=])',
  }),
  prefixed({
    id: 'asana-token',
    family: 'asana',
    description: 'Asana personal access token',
    token: '[0-9]/[0-9]{16}/[0-9]{16}:[A-Za-z0-9]{32}|[0-9]{1,4}/[0-9]{16}:[A-Za-z0-9]{32,}',
    // Both forms hold a digit then a slash; a bare '/' would wake the rule on nearly every file.
    keywords: ['0/', '1/', '2/', '3/', '4/', '5/', '6/', '7/', '8/', '9/'],
    match: [() => join('2/', fake.digits(16), '/', fake.digits(16), ':', fake.hex(32))],
    noMatch: [() => '1/2/3:4'],
    before: '(?<![A-Za-z0-9/])',
    after: '(?![A-Za-z0-9])',
    flags: '',
  }),
  prefixed({
    id: 'twitch-stream-key',
    family: 'twitch',
    description: 'Twitch stream key',
    token: 'live_\\d{6,12}_[A-Za-z0-9]{30}',
    keywords: ['live_'],
    match: [() => join('live_', fake.digits(9), '_', fake.alnum(30))],
  }),
  prefixed({
    id: 'kubernetes-bootstrap-token',
    family: 'kubernetes',
    description: 'Kubernetes (kubeadm) bootstrap token',
    token: '[a-z0-9]{6}\\.[a-z0-9]{16}',
    keywords: ['bootstrap'],
    match: [() => `BOOTSTRAP_TOKEN: "${join(fake.lowerAlnum(6), '.', fake.lowerAlnum(16))}"`],
    noMatch: [() => `bootstrap: ${fake.lowerAlnum(6)}.${fake.lowerAlnum(8)}`],
    before: '(?<![A-Za-z0-9.])',
    after: '(?![A-Za-z0-9.])',
  }),
];

// --- Provider-named variables ---

/** The rest of a name after the provider word, up to the word that says it holds a secret. */
const NAME_LINK = '[\\w.-]{0,30}(?:[ \\t][\\w.-]{0,20})?';
const SECRET_WORD = '(?:key|token|secret|login|pass|pwd|access|auth|credential)';
/** Names that hold something beside the secret: its id, url, region... */
const NOT_SECRET_TAIL =
  '(?<![_.-](?:ids|url|uri|name|type|file|path|endpoint|region|domain|host|org|user|username|email|account|version)|(?<!access)[_.-]?id)';
const OPERATOR = `["'\`]?\\]?\\)?[ \\t]{0,20}(?:=|:=|::=|:::=|\\?=|:|=>|,|\\|\\||\\?\\?|or(?=[ \\t]))[ \\t]{0,5}["'\`]?`;
/** A value ends at a delimiter: one odd character (a near miss) does not leave a valid first half. */
const DELIMITER = '(?=$|[\\s"\'`,;)}\\]<>])';
const TOKEN_VALUE = '[A-Za-z0-9_.~+/=-]{14,200}';

interface NamedSpec {
  id: string;
  provider: string;
  /** Lowercase words that name the provider in a variable. */
  words: string[];
  /** The provider issues an id that works as a credential (Sumo Logic access id). */
  idIsSecret?: boolean;
  /** Regex source of the value; default: 14-200 token characters. */
  value?: string;
  example?: () => string;
  minEntropy?: number;
  validate?: Rule['validate'];
}

/** Every provider word of the named rules: the generic rule leaves such names to them. */
export const PROVIDER_WORDS: string[] = [];

function named(spec: NamedSpec): Rule {
  PROVIDER_WORDS.push(...spec.words);
  const words = spec.words.map((word) => word.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')).join('|');
  // An environment lookup is no value: skip it so the fallback after it (`|| "…"`) is still seen.
  const value = `(?!(?:process\\.env|import\\.meta\\.env|os\\.environ|os\\.getenv|System\\.getenv)\\b)(?:${spec.value ?? TOKEN_VALUE})`;
  const example = spec.example ?? (() => fake.alnum(32));
  const variable = `${spec.words[0]!.toUpperCase().replace(/[^A-Z0-9]/g, '_')}_API_KEY`;
  const rule: Rule = {
    id: spec.id,
    family: 'named-provider',
    description: `${spec.provider} key or token assigned to a ${spec.provider}-named variable`,
    regex: new RegExp(
      `(?:${words})${NAME_LINK}${spec.idIsSecret ? SECRET_WORD.replace('credential', 'credential|id') : SECRET_WORD}[\\w.-]{0,20}${spec.idIsSecret ? '' : NOT_SECRET_TAIL}${OPERATOR}(?<secret>${value})${DELIMITER}`,
      'i',
    ),
    keywords: spec.words,
    severity: 'high',
    minEntropy: spec.minEntropy ?? 2.8,
    placeholders: true,
    examples: {
      match: [
        () => `${variable} = "${example()}"`,
        () => `${spec.words[0]}_token: ${example()}`,
        () => `export const ${variable} = process.env.${variable} || "${example()}";`,
      ],
      noMatch: [
        () => `${variable} = "\${${variable}}"`,
        () => `${variable} = "${fake.alnum(10)}?${fake.alnum(20)}"`,
        ...(spec.idIsSecret ? [] : [() => `${spec.words[0]}_client_id = "${example()}"`]),
      ],
    },
  };
  if (spec.validate) rule.validate = spec.validate;
  return rule;
}

export const namedRules: Rule[] = [
  named({ id: 'snyk-token', provider: 'Snyk', words: ['snyk'], value: UUID, example: fake.uuid }),
  named({
    id: 'heroku-api-key',
    provider: 'Heroku',
    words: ['heroku'],
    value: `${UUID}|HRKU-[A-Za-z0-9_-]{60}`,
    example: fake.uuid,
  }),
  named({ id: 'hubspot-key', provider: 'HubSpot', words: ['hubspot'] }),
  named({
    id: 'messagebird-key',
    provider: 'MessageBird',
    words: ['messagebird', 'message_bird', 'message-bird'],
    idIsSecret: true,
  }),
  named({ id: 'sonar-token', provider: 'Sonar', words: ['sonar'] }),
  named({ id: 'sumologic-key', provider: 'Sumo Logic', words: ['sumo'], idIsSecret: true }),
  named({
    id: 'okta-token',
    provider: 'Okta',
    words: ['okta'],
    value: '00[A-Za-z0-9_-]{40}',
    example: () => join('00', fake.base64url(40)),
  }),
  named({
    id: 'facebook-secret',
    provider: 'Facebook',
    words: ['facebook', 'fb_', 'fbapi', 'fbapp'],
    value: '[a-f0-9]{32}|EAA[A-Za-z0-9]{60,}|\\d{15,16}\\|[A-Za-z0-9_-]{27}',
    example: () => fake.hex(32),
  }),
  named({
    id: 'mailchimp-named-key',
    provider: 'Mailchimp',
    words: ['mailchimp'],
    value: '[a-f0-9]{32}-us\\d{1,2}',
    example: () => `${fake.hex(32)}-us18`,
  }),
  named({ id: 'atlassian-named-token', provider: 'Atlassian', words: ['atlassian', 'jira', 'confluence'] }),
  named({ id: 'octopus-named-key', provider: 'Octopus Deploy', words: ['octopus'] }),
  named({ id: 'datadog-key', provider: 'Datadog', words: ['datadog', 'dd_api', 'dd_app'] }),
  named({
    id: 'newrelic-named-key',
    provider: 'New Relic',
    words: ['newrelic', 'new_relic', 'new-relic'],
    value:
      'NRAK-[A-Z0-9]{27}|NRJS-[a-f0-9]{19}|NRI[IQ]-[A-Za-z0-9_-]{32}|(?:eu01xx[a-f0-9]{30}|[a-f0-9]{36})NRAL|[a-f0-9]{40}|[A-Z]{4}-[A-Za-z0-9_-]{42}',
    example: () => fake.hex(40),
  }),
  named({
    id: 'sentry-named-token',
    provider: 'Sentry',
    words: ['sentry'],
    value: 'sntryu_[a-f0-9]{64}|sntrys_eyJ[A-Za-z0-9+/=_-]{60,}|[a-f0-9]{64}|[a-f0-9]{32}',
    example: () => fake.hex(64),
  }),
  named({
    id: 'algolia-key',
    provider: 'Algolia',
    words: ['algolia'],
    value: '[A-Za-z0-9]{32}',
    example: () => fake.alnum(32),
  }),
  named({ id: 'circleci-token', provider: 'CircleCI', words: ['circleci'] }),
  named({ id: 'travis-token', provider: 'Travis CI', words: ['travis'] }),
  named({ id: 'bitbucket-secret', provider: 'Bitbucket', words: ['bitbucket'] }),
  named({ id: 'cloudflare-named-key', provider: 'Cloudflare', words: ['cloudflare', 'cf_api'] }),
  named({
    id: 'mapbox-secret-token',
    provider: 'Mapbox',
    words: ['mapbox'],
    value: '[st]k\\.eyJ[A-Za-z0-9_-]{20,}\\.[A-Za-z0-9_-]{20,}',
    example: () => join('sk.', 'eyJ', fake.base64url(60), '.', fake.base64url(22)),
  }),
  named({ id: 'pagerduty-key', provider: 'PagerDuty', words: ['pagerduty'] }),
  named({
    id: 'rollbar-token',
    provider: 'Rollbar',
    words: ['rollbar'],
    value: '[a-f0-9]{32}',
    example: () => fake.hex(32),
  }),
  named({ id: 'mailgun-named-key', provider: 'Mailgun', words: ['mailgun'] }),
  named({ id: 'postmark-token', provider: 'Postmark', words: ['postmark'], value: UUID, example: fake.uuid }),
  named({ id: 'pusher-secret', provider: 'Pusher', words: ['pusher'] }),
  named({ id: 'contentful-token', provider: 'Contentful', words: ['contentful'] }),
  named({ id: 'launchdarkly-key', provider: 'LaunchDarkly', words: ['launchdarkly'] }),
  named({ id: 'netlify-named-token', provider: 'Netlify', words: ['netlify'] }),
  named({ id: 'vercel-named-token', provider: 'Vercel', words: ['vercel'] }),
  named({ id: 'digitalocean-named-token', provider: 'DigitalOcean', words: ['digitalocean'] }),
  named({ id: 'linode-token', provider: 'Linode', words: ['linode'] }),
  named({ id: 'vultr-key', provider: 'Vultr', words: ['vultr'] }),
  named({
    id: 'discord-token',
    provider: 'Discord',
    words: ['discord'],
    // A bot token is <base64 user id, 24-26>.<6>.<27-38>; a client secret 32 characters.
    value: '[MNO][A-Za-z0-9_-]{23,25}\\.[A-Za-z0-9_-]{6}\\.[A-Za-z0-9_-]{27,38}|[A-Za-z0-9_-]{32}|[a-f0-9]{64}',
    example: () => join('M', fake.base64url(25), '.', fake.base64url(6), '.', fake.base64url(27)),
  }),
  named({ id: 'twitch-named-token', provider: 'Twitch', words: ['twitch'] }),
  named({ id: 'dropbox-named-token', provider: 'Dropbox', words: ['dropbox'] }),
  named({ id: 'asana-named-token', provider: 'Asana', words: ['asana'] }),
  named({ id: 'clickup-token', provider: 'ClickUp', words: ['clickup'] }),
  named({ id: 'airtable-named-key', provider: 'Airtable', words: ['airtable'] }),
  named({ id: 'zendesk-token', provider: 'Zendesk', words: ['zendesk'] }),
  named({ id: 'freshdesk-key', provider: 'Freshdesk', words: ['freshdesk'] }),
  named({ id: 'intercom-token', provider: 'Intercom', words: ['intercom'] }),
  named({ id: 'braintree-key', provider: 'Braintree', words: ['braintree'] }),
  named({
    id: 'paypal-secret',
    provider: 'PayPal',
    words: ['paypal'],
    value: '[A-Za-z0-9_.-]{40,90}',
    example: () => fake.base64url(80),
  }),
  named({ id: 'plaid-secret', provider: 'Plaid', words: ['plaid'] }),
  named({ id: 'coinbase-key', provider: 'Coinbase', words: ['coinbase'] }),
  named({ id: 'binance-key', provider: 'Binance', words: ['binance'] }),
  named({ id: 'etherscan-key', provider: 'Etherscan', words: ['etherscan'] }),
  named({ id: 'infura-key', provider: 'Infura', words: ['infura'] }),
  named({ id: 'moralis-key', provider: 'Moralis', words: ['moralis'] }),
  named({ id: 'ngrok-token', provider: 'ngrok', words: ['ngrok'] }),
  named({ id: 'yandex-key', provider: 'Yandex', words: ['yandex'] }),
  named({ id: 'twitter-secret', provider: 'Twitter / X', words: ['twitter'] }),
  named({
    id: 'salesforce-token',
    provider: 'Salesforce',
    words: ['salesforce'],
    // An access token is <org id>!<session>: the ! is part of it.
    value: `00D[A-Za-z0-9]{12,15}![A-Za-z0-9_.]{80,200}|${TOKEN_VALUE}`,
    example: () => join('00D', fake.alnum(12), '!', fake.alnum(96)),
  }),
  named({ id: 'scaleway-key', provider: 'Scaleway', words: ['scaleway'], value: UUID, example: fake.uuid }),
  named({
    id: 'sparkpost-key',
    provider: 'SparkPost',
    words: ['sparkpost'],
    value: '[a-f0-9]{40}|[A-Za-z0-9]{40}',
    example: () => fake.hex(40),
  }),
  named({
    id: 'razorpay-secret',
    provider: 'Razorpay',
    words: ['razorpay'],
    value: '[A-Za-z0-9]{24}|rzp_(?:live|test)_[A-Za-z0-9]{14}',
    example: () => fake.alnum(24),
  }),
  named({
    id: 'mandrill-key',
    provider: 'Mandrill',
    words: ['mandrill'],
    value: '[A-Za-z0-9_-]{22}',
    example: () => fake.base64url(22),
  }),
  named({
    id: 'twilio-named-token',
    provider: 'Twilio',
    words: ['twilio'],
    value: '[a-f0-9]{32}|SK[a-f0-9]{32}',
    example: () => fake.hex(32),
  }),
  named({
    id: 'npm-named-token',
    provider: 'npm',
    words: ['npm'],
    // Legacy npm tokens are UUIDs; current ones npm_ + 36 characters, the last 6 a checksum.
    value: `${UUID}|npm_[A-Za-z0-9]{36}`,
    example: fake.uuid,
    validate: (secret) => !checksumFails(secret),
  }),
  named({
    id: 'telegram-named-token',
    provider: 'Telegram',
    words: ['telegram'],
    value: '\\d{8,10}:AA[A-Za-z0-9_-]{33}',
    example: () => join(fake.digits(10), ':AA', fake.base64url(33)),
  }),
  named({
    id: 'square-named-token',
    provider: 'Square',
    words: ['square'],
    value: '(?:EAAA|sq0atp-|sq0csp-)[A-Za-z0-9_-]{22,60}',
    example: () => join('EAAA', fake.base64url(60)),
  }),
  named({
    id: 'azure-openai-key',
    provider: 'Azure OpenAI',
    words: ['azure_openai', 'azureopenai', 'azure-openai', 'openai_azure'],
    value: '[a-f0-9]{32}|[A-Za-z0-9]{84}',
    example: () => fake.hex(32),
  }),
];

// --- Context rules ---

/** Any of these words shortly before a 64-byte base64 value says it is a key. */
const KEY_CONTEXT = /key|secret|password|credential|sas|token|<secret>/i;

/** base64 that decodes to printable words with spaces is a phrase, not key material. */
export function isBase64Prose(value: string): boolean {
  if (!/^[A-Za-z0-9+/]{12,}={0,2}$/.test(value) || value.length % 4 !== 0) return false;
  const decoded = Buffer.from(value, 'base64').toString('latin1');
  return /^[A-Za-z]+(?: [A-Za-z]+)+[.!]?$/.test(decoded);
}

export const contextRules: Rule[] = [
  {
    id: 'azure-storage-account-key',
    family: 'azure',
    description: 'Azure storage (or Cosmos DB) account key: 64 bytes of base64 near a key name',
    // Not after a dash: sha512-<88 characters> is a package integrity hash.
    regex: /(?<![A-Za-z0-9+/-])(?<secret>[A-Za-z0-9+/]{86}==)(?![A-Za-z0-9+/=])/,
    keywords: ['=='],
    severity: 'high',
    minEntropy: 4.5,
    validate: (_secret, context) => KEY_CONTEXT.test(context.window),
    examples: {
      match: [
        () => `export const key =\n  process.env.ACCOUNT_KEY ||\n  "${fake.base64(86)}==";`,
        () => `private const string storageAccountKey = "${fake.base64(86)}==";`,
        () => `  account_key: '${fake.base64(86)}=='`,
      ],
      noMatch: [
        () => `"integrity": "sha512-${fake.base64(86)}==", "key": 1`,
        () => `checksum = "${fake.base64(86)}=="`,
        () => `AccountKey=${fake.base64(40)}==`,
      ],
    },
  },
  {
    id: 'azure-sas-token',
    family: 'azure',
    description: 'Azure shared access signature (sig= with a signed version sv=)',
    regex: /[?&;"'\s]sig=(?<secret>[A-Za-z0-9%+/_-]{30,120}(?:%3D|=){0,2})(?![A-Za-z0-9%+/_=-])/i,
    keywords: ['sig='],
    severity: 'high',
    minEntropy: 3.5,
    // Only a signature the service can check: the same URL or string carries its signed version.
    validate: (_secret, context) => /(?:^|[?&;"'\s])sv=[\d.-]+/i.test(context.line),
    examples: {
      match: [
        () =>
          `AZURE_SAS=sp=r&st=2025-03-04T07:24:52Z&se=2025-04-04T15:24:52Z&spr=https&sv=2022-11-02&sr=c&sig=${fake.alnum(43)}%3D`,
        () => `https://acct.blob.core.windows.net/c?sv=2023-01-03&sr=c&sp=r&sig=${fake.base64url(43)}`,
      ],
      noMatch: [() => `https://example.org/x?a=1&sig=${fake.alnum(43)}`, () => 'sv=2022-11-02&sig=%SIG%'],
    },
  },
  {
    id: 'microsoft-teams-webhook',
    family: 'teams',
    description: 'Microsoft Teams incoming webhook URL',
    regex:
      /(?<secret>https:\/\/(?:[a-z0-9-]{1,40}\.webhook\.office|outlook\.office)\.com\/webhook(?:b2)?\/[0-9a-f-]{36}@[0-9a-f-]{36}\/IncomingWebhook\/[0-9a-f]{32}\/[0-9a-f-]{36}(?:\/[A-Za-z0-9_-]{40,60})?)/i,
    keywords: ['webhook.office.com', 'outlook.office.com'],
    severity: 'high',
    examples: {
      match: [
        () =>
          join(
            'https://outlook',
            '.office.com/webhook/',
            fake.uuid(),
            '@',
            fake.uuid(),
            '/IncomingWebhook/',
            fake.hex(32),
            '/',
            fake.uuid(),
          ),
      ],
      noMatch: [() => join('https://outlook', '.office.com/webhook/', 'xxxx')],
    },
  },
  {
    id: 'discord-webhook',
    family: 'discord',
    description: 'Discord webhook URL',
    regex:
      /(?<secret>https:\/\/(?:ptb\.|canary\.)?discord(?:app)?\.com\/api(?:\/v\d+)?\/webhooks\/\d{17,20}\/[A-Za-z0-9_-]{60,68})(?![A-Za-z0-9_-])/,
    keywords: ['discord.com/api', 'discordapp.com/api'],
    severity: 'high',
    examples: {
      match: [() => join('https://discord', '.com/api/webhooks/', fake.digits(18), '/', fake.base64url(68))],
      noMatch: [() => join('https://discord', '.com/api/webhooks/', fake.digits(18), '/', 'token')],
    },
  },
  {
    id: 'vault-legacy-token',
    family: 'vault',
    description: 'HashiCorp Vault token of the old format (s., b., r.) next to a vault or token name',
    regex:
      /(?:vault|token)[\w.-]{0,20}["'`]?[ \t]{0,3}(?:[:=]|[ \t])[ \t]{0,3}["'`]?(?<secret>[sbr]\.[A-Za-z0-9_-]{24,400})(?![A-Za-z0-9_-])/i,
    keywords: ['vault', 'token'],
    severity: 'high',
    minEntropy: 3,
    examples: {
      match: [
        () => `VAULT_CLIENT_TOKEN="${join('s.', fake.alnum(24))}"`,
        () => `-vaultToken ${join('s.', fake.base64url(90))}`,
      ],
      noMatch: [() => 'vault_token: s.short', () => `token = ${join('x.', fake.alnum(24))}`],
    },
  },
  {
    id: 'vault-unseal-key',
    family: 'vault',
    description: 'HashiCorp Vault unseal key',
    regex:
      /(?:Unseal Key(?: \d{1,2})?:|vault operator unseal)[ \t]{1,5}(?:-[\w-]+[ \t]+)?(?<secret>[A-Za-z0-9+/]{43,44}={0,1}|[A-Fa-f0-9]{64})(?![A-Za-z0-9+/=])/i,
    keywords: ['unseal'],
    severity: 'critical',
    minEntropy: 3.5,
    examples: {
      match: [() => `Unseal Key 1: ${fake.base64(44)}`, () => `vault operator unseal ${fake.base64(44)}`],
      noMatch: [() => 'vault operator unseal', () => 'Unseal Key 1: <key>'],
    },
  },
  {
    id: 'wireguard-key',
    family: 'wireguard',
    description: 'WireGuard private or preshared key',
    regex:
      /^[ \t]*(?:PrivateKey|PresharedKey)[ \t]*=[ \t]*(?<secret>[A-Za-z0-9+/]{42}[AEIMQUYcgkosw480]=)(?![A-Za-z0-9+/=])/m,
    keywords: ['privatekey', 'presharedkey'],
    severity: 'critical',
    minEntropy: 3.5,
    examples: {
      match: [() => `[Interface]\nPrivateKey = ${fake.base64(42)}A=`],
      noMatch: [() => `[Peer]\nPublicKey = ${fake.base64(42)}A=`, () => 'PrivateKey = <server key>'],
    },
  },
  {
    id: 'xml-secret-element',
    family: 'xml',
    description: 'Secret in an XML element or appSettings entry named for a secret (Jenkins, .NET, TeamCity)',
    regex:
      /<(?<tag>secret|password|passwd|apiToken|token|privateKey|secretKey|clientSecret)>(?<secret>[^<>\n]{8,400})<\/\k<tag>>|<add\s{1,5}key=["'][\w.:-]{0,40}(?:Password|Secret|Token|ApiKey)["']\s{1,5}value=["'](?<secret2>[^"'\n]{6,400})["']/i,
    keywords: [
      '<secret>',
      '<password>',
      '<passwd>',
      '<apitoken>',
      '<token>',
      '<privatekey>',
      '<secretkey>',
      '<clientsecret>',
      '<add',
    ],
    severity: 'high',
    placeholders: true,
    minEntropy: 2.5,
    allow: [/^\$\{/, /^%[A-Za-z_]\w*%$/, /^\{\{/],
    examples: {
      match: [
        () => `<secret>{AQAAABAAAA${fake.alnum(20)}+${fake.alnum(20)}=}</secret>`,
        () => `<add key="FromEmailPassword" value="${fake.password()}"/>`,
      ],
      noMatch: [() => '<secret>${SECRET}</secret>', () => '<add key="ClearTextPassword" value="%NUGET_PASSWORD%" />'],
    },
  },
  {
    id: 'connection-string-password',
    family: 'connection-string',
    description: 'Password in a database connection string (ADO.NET, ODBC, JDBC properties)',
    regex: /(?:^|[;"'\s])(?:Password|Pwd)[ \t]{0,3}=[ \t]{0,3}(?<secret>[^;"'\s<>{}$][^;"'\n]{2,127})(?=;|["']|$)/i,
    keywords: ['password', 'pwd'],
    severity: 'high',
    placeholders: true,
    minEntropy: 2,
    // A connection string names its user and server too; a lone password= is the generic rule's.
    // Code that reads one (`password = result.groups?.password`) is no connection string.
    validate: (secret, context) =>
      !/^[A-Za-z_$][\w$]*(?:\??\.[A-Za-z_$][\w$]*)+$/.test(secret) &&
      /(?:^|[;"'\s])(?:User ?ID|Uid|User|Username)[ \t]{0,3}=/i.test(context.line) &&
      /(?:Server|Data Source|Host|Database|Initial Catalog|Provider|Driver|jdbc:)/i.test(context.line),
    examples: {
      match: [
        () => `Server=db;Database=app;User ID=app;Password=${fake.password()};Trusted_Connection=False`,
        () => `"Driver={ODBC};Server=db;Uid=sa;Pwd=${fake.password()};"`,
      ],
      noMatch: [() => 'Server=db;User ID=app;Password=${DB_PASSWORD};', () => `password=${fake.password()}`],
    },
  },
  {
    id: 'authorization-header-value',
    family: 'http-header',
    description: 'Bearer, token or basic credential written as an Authorization header value in code or config',
    regex:
      /["']?(?:Proxy-)?Authorization["']?[ \t]{0,3}(?:[:=,]|=>)[ \t]{0,3}[fF]?["'`](?:Bearer|Token|Basic)[ \t]{1,3}(?<secret>[A-Za-z0-9._~+/=-]{16,2000})["'`]/i,
    keywords: ['authorization'],
    severity: 'high',
    placeholders: true,
    minEntropy: 3,
    examples: {
      match: [
        () => `headers = {"Authorization": "Bearer ${fake.alnum(40)}"}`,
        () => `req.Header.Set("Authorization", "Token ${fake.hex(40)}")`,
      ],
      noMatch: [() => 'headers = {"Authorization": f"Bearer {token}"}', () => '"Authorization": "Bearer <token>"'],
    },
  },
  {
    id: 'placeholder-default-password',
    family: 'generic',
    description: 'Default value of a secret in a ${NAME:default} placeholder (Spring, Compose, shell)',
    regex:
      /\$\{[\w.-]{0,60}(?:passw(?:or)?d|passphrase|secret|token|api[-_.]?key|pwd)[\w.-]{0,30}(?::-?|-)(?<secret>[^}\s$]{6,200})\}/i,
    keywords: ['${'],
    severity: 'medium',
    placeholders: true,
    minEntropy: 2.5,
    examples: {
      match: [
        () => `@Value("\${db.password:${fake.password()}}")`,
        () => `POSTGRES_PASSWORD: \${POSTGRES_PASSWORD:-${fake.password()}}`,
      ],
      noMatch: [() => 'POSTGRES_PASSWORD: ${POSTGRES_PASSWORD:-changeme}', () => 'token: ${API_TOKEN}'],
    },
  },
  {
    id: 'powershell-plaintext-securestring',
    family: 'cmdline-password',
    description: 'Password given in plain text to PowerShell ConvertTo-SecureString',
    regex:
      /ConvertTo-SecureString[ \t]+(?:-String[ \t]+)?(?<q>["'])(?<secret>[^"'\n$]{4,128})\k<q>(?=[^\n]{0,200}-AsPlainText)/i,
    keywords: ['convertto-securestring'],
    severity: 'high',
    placeholders: true,
    minEntropy: 2.2,
    examples: {
      match: [() => `$pw = ConvertTo-SecureString "${fake.password()}" -AsPlainText -Force`],
      noMatch: [() => '$pw = ConvertTo-SecureString $env:DEPLOY_PASSWORD -AsPlainText -Force'],
    },
  },
  {
    id: 'terraform-variable-default',
    multiline: true,
    family: 'generic',
    description:
      'Default value of a Terraform variable whose name is a secret (variable "db_password" { default = "…" })',
    regex:
      /\bvariable[ \t]+"[\w-]{0,60}(?:passw(?:or)?d|passphrase|secret|token|api[_-]?key|private[_-]?key)[\w-]{0,30}"[ \t]*\{[^{}]{0,400}?\bdefault[ \t]*=[ \t]*"(?<secret>[^"\n$]{6,200})"/i,
    keywords: ['variable'],
    severity: 'medium',
    placeholders: true,
    minEntropy: 2.5,
    examples: {
      match: [
        () =>
          `variable "db_password" {\n  type      = string\n  sensitive = true\n  default   = "${fake.password()}"\n}`,
      ],
      noMatch: [
        () => 'variable "db_password" {\n  default = "changeme"\n}',
        () => `variable "region" {\n  default = "${fake.alnum(12)}"\n}`,
      ],
    },
  },
  {
    id: 'gradle-credentials-password',
    multiline: true,
    family: 'generic',
    description: "Password in a Gradle repository's credentials block (password '…')",
    regex: /\bcredentials[ \t]*\{[^{}]{0,300}?\bpassword[ \t]*(?:=[ \t]*)?(?<q>["'])(?<secret>[^"'\n$]{4,200})\k<q>/,
    keywords: ['credentials'],
    severity: 'high',
    placeholders: true,
    minEntropy: 2.2,
    examples: {
      match: [() => `credentials {\n  username 'deploy'\n  password '${fake.password()}'\n}`],
      noMatch: [() => "credentials {\n  username 'deploy'\n  password System.getenv('REPO_PASSWORD')\n}"],
    },
  },
  {
    id: 'credential-constructor',
    family: 'generic',
    description:
      'Password passed to a credential constructor (NetworkCredential, DirectoryEntry, PasswordAuthentication...)',
    regex:
      /(?:NetworkCredential|UsernamePasswordCredential|PasswordAuthentication|HTTPBasicAuth|BasicAuth|DirectoryEntry|PSCredential)\(\s{0,5}(?:"[^"\n]{0,200}"\s{0,5},\s{0,5}){1,2}"(?<secret>[^"\n]{4,128})"\s{0,5}[,)]/,
    keywords: ['credential', 'passwordauthentication', 'basicauth', 'directoryentry'],
    severity: 'high',
    placeholders: true,
    minEntropy: 2.2,
    examples: {
      match: [() => `new NetworkCredential("deploy", "${fake.password()}");`],
      noMatch: [() => 'new NetworkCredential("deploy", "password");', () => 'new NetworkCredential(user, pass);'],
    },
  },
  {
    id: 'cmdline-password-flag',
    family: 'cmdline-password',
    description: 'Password on a command line: psexec/net use -p, PowerShell -Password, docker login -p',
    regex:
      /(?:\b(?:psexec|paexec)\b[^\n]{0,200}?\s-p|\bdocker\s+login\b[^\n]{0,200}?\s(?:-p|--password)|\s-(?:Password|Pwd))[ \t=]{1,5}(?<secret>[^\s'"`;|&$<-][^\s'"`;|&]{2,127}|'[^'\n$]{3,128}'|"[^"\n$]{3,128}")/i,
    keywords: ['psexec', 'paexec', 'docker', '-password', '-pwd'],
    severity: 'high',
    placeholders: true,
    minEntropy: 2,
    allow: [/^["']?\$/, /^["']?<.*>["']?$/, /^["']?%\w+%["']?$/],
    examples: {
      match: [
        () => `psexec \\\\10.0.0.5 -u Administrator -p ${fake.password()} cmd`,
        () => `Connect-VIServer -Server 10.0.0.5 -User admin -Password ${fake.password()}`,
      ],
      noMatch: [() => 'psexec \\\\host -u admin -p $PASS cmd', () => 'Connect-VIServer -Password $cred'],
    },
  },
];

// --- Ops files of this tool's own users ---

/** Docker's auth field is base64 of user:password. */
function decodesToUserPassword(value: string): boolean {
  const decoded = Buffer.from(value, 'base64').toString('utf8');
  return /^[^\s:]{1,200}:[^\s]{3,}$/.test(decoded) && !/^[^:]*:(?:\$|<|\{\{)/.test(decoded);
}

export const opsFileRules: Rule[] = [
  {
    id: 'redis-password',
    family: 'ops-file',
    description: 'Redis password (requirepass / masterauth in redis.conf or on a redis-server command line)',
    regex:
      // At the start of a line (redis.conf; a commented line is not) or as a --flag.
      /(?:^[ \t]*|--)(?:requirepass|masterauth)[ \t]+(?<secret>"[^"\n]{4,128}"|'[^'\n]{4,128}'|[^\s"'$\\]{4,128})/m,
    keywords: ['requirepass', 'masterauth'],
    severity: 'high',
    placeholders: true,
    minEntropy: 2,
    allow: [/^["']?\$/, /^["']?<.*>["']?$/, /^["']?(?:foobared|yes|no|"")["']?$/],
    examples: {
      match: [
        () => `bind 127.0.0.1\nrequirepass ${fake.password()}\n`,
        () => `redis-server --requirepass '${fake.password()}'`,
      ],
      noMatch: [() => '# requirepass foobared', () => 'requirepass $REDIS_PASSWORD'],
    },
  },
  {
    id: 'pgpass-password',
    family: 'ops-file',
    description: 'PostgreSQL password file entry (.pgpass: host:port:database:user:password)',
    regex:
      /^(?!#)(?:[^:\n]|\\:){1,200}:(?:\d{1,5}|\*):(?:[^:\n]|\\:){1,200}:(?:[^:\n]|\\:){1,200}:(?<secret>[^\n]{1,200})$/m,
    keywords: [':'],
    path: /(?:^|\/)\.?pgpass(?:\.conf)?$/,
    examplePath: '.pgpass',
    multiline: true,
    severity: 'high',
    placeholders: true,
    examples: {
      match: [() => `db.internal:5432:app:app:${fake.password()}\n`],
      noMatch: [() => '# hostname:port:database:username:password\n', () => 'localhost:5432:*:app:*\n'],
    },
  },
  {
    id: 'netrc-password',
    family: 'ops-file',
    description: 'Password in a .netrc entry (machine ... login ... password ...)',
    regex:
      /\bmachine[ \t]+\S{1,200}(?:\s+(?:login|account|port)[ \t]+\S{1,200}){0,3}\s+password[ \t]+(?<secret>\S{3,200})/,
    keywords: ['machine'],
    multiline: true,
    severity: 'high',
    placeholders: true,
    examples: {
      match: [
        () => `machine api.example.org\n  login deploy\n  password ${fake.alnum(40)}\n`,
        () => `machine git.example.org login ci password ${fake.password()}`,
      ],
      noMatch: [
        () => 'machine api.example.org login deploy password $NETRC_PASSWORD',
        () => 'machine learning password',
      ],
    },
  },
  {
    id: 'mysql-config-password',
    family: 'ops-file',
    description: 'Password in a MySQL option file (.my.cnf, my.cnf)',
    regex: /^[ \t]*password[ \t]*=[ \t]*(?<secret>"[^"\n]{1,200}"|'[^'\n]{1,200}'|[^\s"'#;]{1,200})/m,
    keywords: ['password'],
    path: /(?:^|\/)\.?my(?:sql)?[\w.-]*\.cnf$|(?:^|\/)\.mylogin\.cnf$/,
    examplePath: '.my.cnf',
    severity: 'high',
    placeholders: true,
    examples: {
      match: [() => `[client]\nuser=app\npassword=${fake.password()}\n`],
      noMatch: [() => '[client]\nuser=app\npassword=\n', () => '[client]\npassword = <password>\n'],
    },
  },
  {
    id: 'python-package-index-password',
    family: 'ops-file',
    description: 'Password in .pypirc or pip.conf',
    regex: /^[ \t]*password[ \t]*[=:][ \t]*(?<secret>[^\s#;]{3,200})/m,
    keywords: ['password'],
    path: /(?:^|\/)(?:\.pypirc|pip\.conf|pip\.ini)$/,
    examplePath: '.pypirc',
    severity: 'high',
    placeholders: true,
    examples: {
      match: [() => `[pypi]\nusername = __token__\npassword = ${fake.pypiToken()}\n`],
      noMatch: [() => '[pypi]\nusername = __token__\npassword = ${PYPI_TOKEN}\n'],
    },
  },
  {
    id: 'npmrc-auth',
    family: 'ops-file',
    description: 'Credential in an .npmrc (_auth, _authToken, _password)',
    regex: /(?:^|:)(?:_auth|_authToken|_password)[ \t]*=[ \t]*["']?(?<secret>[^\s"'$]{8,400})/m,
    keywords: ['_auth', '_password'],
    path: /(?:^|\/)\.?npmrc$/,
    examplePath: '.npmrc',
    severity: 'high',
    placeholders: true,
    examples: {
      match: [
        () => `//registry.example.org/:_password=${Buffer.from(fake.password()).toString('base64')}\n`,
        () => `_auth=${Buffer.from(`ci:${fake.password()}`).toString('base64')}\n`,
      ],
      noMatch: [() => '//registry.npmjs.org/:_authToken=${NPM_TOKEN}\n'],
    },
  },
  {
    id: 'docker-config-auth',
    family: 'ops-file',
    description: 'Registry credential in a Docker config.json "auths" entry (base64 of user:password)',
    regex:
      /\\{0,3}"(?:auth|identitytoken)\\{0,3}"[ \t]{0,3}:[ \t]{0,3}\\{0,3}"(?<secret>[A-Za-z0-9+/]{8,1000}={0,2})\\{0,3}"/,
    keywords: ['"auth', 'identitytoken'],
    severity: 'high',
    minEntropy: 2.5,
    validate: (secret, context) =>
      /identitytoken/i.test(context.match) ? shannonEntropy(secret) > 3.5 : decodesToUserPassword(secret),
    examples: {
      match: [
        () =>
          `{"auths": {"registry.example.org": {"auth": "${Buffer.from(`ci:${fake.password()}`).toString('base64')}"}}}`,
      ],
      noMatch: [
        () => '{"auths": {"registry.example.org": {"auth": ""}}}',
        () => `{"auth": "${Buffer.from('no colon here').toString('base64')}"}`,
      ],
    },
  },
];
