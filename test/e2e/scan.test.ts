import { chmodSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { execFileSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { fake } from '../../src/core/scan/fake-values.js';
import { runSecrets, type CliResult } from '../helpers/cli.js';
import { fakeChecksummedToken, withOneCharacterChanged } from '../helpers/fake-secrets.js';
import { tempRepo, tempTree } from '../helpers/scan-repo.js';

const repo = tempRepo;

describe('secrets scan through bin/secrets', () => {
  it('exits 0 on a clean tree, 1 with leaks, redacted unless --reveal', async () => {
    const r = repo();
    r.commit({ 'app.py': 'print("hello")\n' });
    expect(await runSecrets(['scan'], { cwd: r.dir })).toMatchObject({ code: 0, stderr: '' });
    const token = fake.github();
    r.write({ 'deploy.sh': `export GH_TOKEN=${token}\n` });
    const leaky = await runSecrets(['scan'], { cwd: r.dir });
    expect(leaky.code).toBe(1);
    expect(leaky.stdout).toContain('deploy.sh:1:17  github-token  high  ghp_…(40)');
    expect(leaky.stdout + leaky.stderr).not.toContain(token);
    const json = await runSecrets(['scan', '--json'], { cwd: r.dir });
    expect(JSON.parse(json.stdout).findings[0]).toMatchObject({
      ruleId: 'github-token',
      file: 'deploy.sh',
      line: 1,
      column: 17,
      match: 'ghp_…(40)',
    });
    expect((await runSecrets(['scan', '--reveal'], { cwd: r.dir })).stdout).toContain(token);
    const sarif = JSON.parse((await runSecrets(['scan', '--format', 'sarif'], { cwd: r.dir })).stdout);
    expect(sarif.version).toBe('2.1.0');
    expect(sarif.runs[0].results).toHaveLength(1);
  });

  it('exits 3 on contradictory flags, with the reason on stderr', async () => {
    const r = repo();
    r.commit({ 'a.txt': 'a\n' });
    const result = await runSecrets(['scan', '--staged', '--history'], { cwd: r.dir });
    expect(result.code).toBe(3);
    expect(result.stderr).toMatch(/--staged and --history/);
  });

  it('installs a hook that blocks a commit adding a secret', async () => {
    const r = repo();
    r.commit({ 'a.txt': 'a\n' });
    const installed = await runSecrets(['scan', '--install-hook'], { cwd: r.dir });
    expect(installed.code).toBe(0);
    const hook = readFileSync(`${r.dir}/.git/hooks/pre-commit`, 'utf8');
    expect(hook).toContain('secrets scan --staged');
  });

  it('skips the paths scan.ignore_paths names, read as a .gitignore (vendor/, *.[pP]em, !negation)', async () => {
    const r = repo();
    const token = fake.github();
    r.write({
      'secrets.yaml':
        'version: 1\ndeployment: demo\nsecrets: {}\nscan:\n  ignore_paths: ["vendor/", "*.[pP]em", "!certs/kept.pem"]\n',
      'src/vendor/lib/deploy.sh': `export GH_TOKEN=${token}\n`,
      'certs/server.Pem': `export GH_TOKEN=${token}\n`,
      'certs/kept.pem': `export GH_TOKEN=${token}\n`,
    });
    const result = await runSecrets(['scan', '--json', '--policy', 'secrets.yaml'], { cwd: r.dir });
    expect(JSON.parse(result.stdout).findings.map((finding: { file: string }) => finding.file)).toEqual([
      'certs/kept.pem',
    ]);
    expect(result.code).toBe(1);
  });

  it('shows help with an example', async () => {
    const help = await runSecrets(['scan', '--help']);
    expect(help.stdout).toMatch(/Examples:/);
    expect(help.stdout).toMatch(/--history/);
  });
});

describe('the repository scans clean', () => {
  it('secrets scan finds nothing in this working tree (fake secrets are built at run time)', async () => {
    const root = new URL('../..', import.meta.url).pathname;
    const result = await runSecrets(['scan', '--json'], { cwd: root, env: { SECRETS_POLICY: undefined } });
    expect(JSON.parse(result.stdout).findings).toEqual([]);
    expect(result.code).toBe(0);
  });
});

/** Runs bin/secrets so that a mode-000 file is unreadable also when the tests run as root. */
function runUnprivileged(args: string[], cwd: string): Promise<CliResult> {
  return runSecrets(args, { cwd, env: { HOME: cwd }, honourFileModes: true });
}

describe('secrets scan on every repository shape, tried as users would', () => {
  const token = () => fake.github();

  it('scans a path outside the current repository (not "outside repository")', async () => {
    const here = repo();
    here.commit({ 'a.txt': 'a\n' });
    const other = repo();
    other.commit({ 'deploy.sh': `export GH_TOKEN=${token()}\n` });
    const plain = tempTree({ 'notes.txt': `GH_TOKEN=${token()}\n` });
    for (const target of [other.dir, plain.dir]) {
      const result = await runSecrets(['scan', '--json', target], { cwd: here.dir });
      expect(result.stderr).toBe('');
      expect(result.code).toBe(1);
      const files = JSON.parse(result.stdout).findings.map((f: { file: string }) => f.file);
      expect(files).toHaveLength(1);
      expect(files[0]).toMatch(/(deploy\.sh|notes\.txt)$/);
    }
  });

  it('scans --history in a bare and in a mirror repository', async () => {
    const origin = repo();
    origin.commit({ 'deploy.sh': `export GH_TOKEN=${token()}\n` });
    origin.commit({ 'deploy.sh': 'export GH_TOKEN=$GH_TOKEN\n' });
    const holder = tempTree();
    for (const flag of ['--bare', '--mirror']) {
      const target = `${holder.dir}/repo${flag}.git`;
      execFileSync('git', ['clone', '-q', flag, origin.dir, target]);
      const result = await runSecrets(['scan', '--history', '--json'], { cwd: target });
      expect(result.stderr).toBe('');
      expect(result.code).toBe(1);
      expect(JSON.parse(result.stdout).findings).toMatchObject([
        { file: 'deploy.sh', line: 1, ruleId: 'github-token' },
      ]);
    }
  });

  it('says a named folder git ignores was not scanned, and refuses a path that does not exist', async () => {
    const r = repo();
    r.commit({ '.gitignore': 'node_modules/\n', 'a.txt': 'a\n' });
    mkdirSync(`${r.dir}/node_modules/pkg`, { recursive: true });
    writeFileSync(`${r.dir}/node_modules/pkg/index.js`, `const GH_TOKEN = "${token()}";\n`);
    const ignored = await runSecrets(['scan', '--json', 'node_modules'], { cwd: r.dir });
    expect(ignored.code).toBe(0);
    expect(JSON.parse(ignored.stdout).skipped.notes).toEqual([
      'node_modules: ignored by git, so not scanned (scan a copy outside the repository to read it)',
    ]);
    const text = await runSecrets(['scan', 'node_modules'], { cwd: r.dir });
    expect(text.stdout + text.stderr).toContain('node_modules: ignored by git, so not scanned');
    const missing = await runSecrets(['scan', 'no-such-dir'], { cwd: r.dir });
    expect(missing.code).toBe(3);
    expect(missing.stderr.trim()).toBe(
      'secrets: [scan-path-missing] no-such-dir: no such file or folder (check the path; nothing was scanned)',
    );
  });

  it("scans a submodule's files in the working tree", async () => {
    const sub = repo();
    sub.commit({ 'config.py': `GH_TOKEN = "${token()}"\n` });
    const top = repo();
    top.commit({ 'a.txt': 'a\n' });
    top.git('-c', 'protocol.file.allow=always', 'submodule', 'add', '-q', sub.dir, 'vendor/sub');
    top.git('commit', '-q', '-m', 'add submodule');
    const result = await runSecrets(['scan', '--json'], { cwd: top.dir });
    expect(result.code).toBe(1);
    expect(JSON.parse(result.stdout).findings).toMatchObject([{ file: 'vendor/sub/config.py' }]);
  });

  it('keeps paths with a space, tab, newline or non-UTF-8 byte exact in --staged and --history; baseline and ignore_paths match them', async () => {
    const r = repo();
    r.commit({ 'a.txt': 'a\n' });
    const names = ['fixture one.py', 'tab\there.py', 'new\nline.py'];
    for (const name of names) r.write({ [name]: `GH_TOKEN = "${token()}"\n` });
    const latin1 = Buffer.concat([Buffer.from(`${r.dir}/caf`), Buffer.from([0xe9]), Buffer.from('.py')]);
    writeFileSync(latin1, `GH_TOKEN = "${token()}"\n`);
    r.git('add', '-A');
    const expected = [...names, 'caf\ufffd.py'].sort();
    const staged = await runSecrets(['scan', '--staged', '--json'], { cwd: r.dir });
    expect(staged.code).toBe(1);
    expect(
      JSON.parse(staged.stdout)
        .findings.map((f: { file: string }) => f.file)
        .sort(),
    ).toEqual(expected);
    const sarif = JSON.parse((await runSecrets(['scan', '--staged', '--format', 'sarif'], { cwd: r.dir })).stdout);
    const uris = sarif.runs[0].results.map(
      (result: { locations: Array<{ physicalLocation: { artifactLocation: { uri: string } } }> }) =>
        result.locations[0]!.physicalLocation.artifactLocation.uri,
    );
    expect(uris).toContain('fixture%20one.py');
    expect(uris.join(' ')).not.toMatch(/%09(?:$| )/);
    // A baseline written from the tree accepts the same findings in --staged and --history.
    expect((await runSecrets(['scan', '--write-baseline', 'base.json'], { cwd: r.dir })).code).toBe(1);
    expect((await runSecrets(['scan', '--staged', '--baseline', 'base.json'], { cwd: r.dir })).code).toBe(0);
    r.git('commit', '-q', '-m', 'fixtures');
    const history = await runSecrets(['scan', '--history', '--json'], { cwd: r.dir });
    expect(
      JSON.parse(history.stdout)
        .findings.map((f: { file: string }) => f.file)
        .sort(),
    ).toEqual(expected);
    expect((await runSecrets(['scan', '--history', '--baseline', 'base.json'], { cwd: r.dir })).code).toBe(0);
    r.write({
      'secrets.yaml':
        'version: 1\ndeployment: demo\nsecrets:\n  app_key:\n    kind: random\n    env_key: APP_KEY\n    rotate_every: 90d\nscan:\n  ignore_paths: ["fixture one.py", "tab*", "new?line.py", "caf*"]\n',
    });
    const ignored = await runSecrets(['scan', '--history', '--json', '--policy', 'secrets.yaml'], { cwd: r.dir });
    expect(JSON.parse(ignored.stdout).findings).toEqual([]);
    expect(ignored.code).toBe(0);
  });

  it('counts and names an unreadable file and goes on scanning', async () => {
    const tree = tempTree();
    chmodSync(tree.dir, 0o755);
    writeFileSync(`${tree.dir}/leak.env`, `GH_TOKEN=${token()}\n`, { mode: 0o644 });
    writeFileSync(`${tree.dir}/locked.env`, 'nothing\n', { mode: 0o000 });
    const json = await runUnprivileged(['scan', '--json', '.'], tree.dir);
    expect(json.stderr).toBe('');
    expect(json.code).toBe(1);
    const parsed = JSON.parse(json.stdout);
    expect(parsed.findings).toMatchObject([{ file: 'leak.env' }]);
    expect(parsed.skipped.unreadable).toEqual(['locked.env']);
    const text = await runUnprivileged(['scan', '.'], tree.dir);
    expect(text.stdout).toMatch(/1 unreadable: locked\.env/);
  });

  it('decodes UTF-16 text files instead of skipping them as binary', async () => {
    const secret = token();
    const body = `# settings\nGH_TOKEN=${secret}\n`;
    const tree = tempTree({
      'le.txt': Buffer.concat([Buffer.from([0xff, 0xfe]), Buffer.from(body, 'utf16le')]),
      'be.txt': Buffer.concat([Buffer.from([0xfe, 0xff]), Buffer.from(body, 'utf16le').swap16()]),
      'nobom.txt': Buffer.from(body, 'utf16le'),
    });
    const result = await runSecrets(['scan', '--json', '.'], { cwd: tree.dir });
    expect(
      JSON.parse(result.stdout)
        .findings.map((f: { file: string; line: number; column: number }) => `${f.file}:${f.line}:${f.column}`)
        .sort(),
    ).toEqual(['be.txt:2:10', 'le.txt:2:10', 'nobom.txt:2:10']);
  });

  it('summarises what was skipped in text, JSON and SARIF notifications', async () => {
    const tree = tempTree({
      'image.bin': Buffer.from([0x89, 0x50, 0x00, 0x01, 0x02]),
      'big.txt': 'x'.repeat(4096),
      'ok.txt': 'hello\n',
    });
    const args = ['scan', '--max-file-size', '1k', '.'];
    const text = await runSecrets(args, { cwd: tree.dir });
    expect(text.stdout).toMatch(/skipped 1 binary, 1 over the size limit/);
    const json = JSON.parse((await runSecrets([...args, '--json'], { cwd: tree.dir })).stdout);
    expect(json.skipped).toMatchObject({ binary: ['image.bin'], large: ['big.txt'], unreadable: [] });
    expect(json.scanned).toMatchObject({ files: 1 });
    const sarif = JSON.parse((await runSecrets([...args, '--format', 'sarif'], { cwd: tree.dir })).stdout);
    const notes = sarif.runs[0].invocations[0].toolExecutionNotifications;
    expect(notes.map((n: { message: { text: string } }) => n.message.text).join('\n')).toMatch(/big\.txt/);
    expect(sarif.runs[0].invocations[0].executionSuccessful).toBe(true);
  });
});

describe("the ops files of this tool's own users", () => {
  it('finds the password in redis.conf, .pgpass, .netrc, .my.cnf, .pypirc, pip.conf, .npmrc, .git-credentials and Docker config.json', async () => {
    const pass = () => fake.password(18);
    const tree = tempTree({
      'redis/redis.conf': `bind 127.0.0.1\nrequirepass ${pass()}\n`,
      'home/.pgpass': `db.internal:5432:app:app:${pass()}\n`,
      'home/.netrc': `machine api.example.org\n  login deploy\n  password ${pass()}\n`,
      'home/.my.cnf': `[client]\nuser=app\npassword=${pass()}\n`,
      'home/.pypirc': `[pypi]\nusername = deploy\npassword = ${pass()}\n`,
      'home/.config/pip/pip.conf': `[global]\nindex-url = https://deploy:${pass()}@pypi.example.org/simple\n`,
      'home/.npmrc': `//registry.example.org/:_password=${Buffer.from(pass()).toString('base64')}\n`,
      'home/.git-credentials': `https://deploy:${pass()}@git.example.org\n`,
      'home/.docker/config.json': `{\n  "auths": {\n    "registry.example.org": { "auth": "${Buffer.from(`deploy:${pass()}`).toString('base64')}" }\n  }\n}\n`,
    });
    const result = await runSecrets(['scan', '--json', '.'], { cwd: tree.dir });
    expect(result.code).toBe(1);
    const byFile = Object.fromEntries(
      JSON.parse(result.stdout).findings.map((f: { file: string; ruleId: string }) => [f.file, f.ruleId]),
    );
    expect(byFile).toEqual({
      'redis/redis.conf': 'redis-password',
      'home/.pgpass': 'pgpass-password',
      'home/.netrc': 'netrc-password',
      'home/.my.cnf': 'mysql-config-password',
      'home/.pypirc': 'python-package-index-password',
      'home/.config/pip/pip.conf': 'url-credentials',
      'home/.npmrc': 'npmrc-auth',
      'home/.git-credentials': 'url-credentials',
      'home/.docker/config.json': 'docker-config-auth',
    });
  });

  it('leaves their placeholders and references alone', async () => {
    const tree = tempTree({
      'redis/redis.conf': '# requirepass foobared\nrequirepass $REDIS_PASSWORD\n',
      'home/.pgpass': '# hostname:port:database:username:password\n',
      'home/.my.cnf': '[client]\nuser=app\npassword=\n',
      'home/.npmrc': '//registry.npmjs.org/:_authToken=${NPM_TOKEN}\n',
      'home/.docker/config.json': '{ "auths": { "registry.example.org": {} }, "credsStore": "desktop" }\n',
    });
    const result = await runSecrets(['scan', '--json', '.'], { cwd: tree.dir });
    expect(JSON.parse(result.stdout).findings).toEqual([]);
    expect(result.code).toBe(0);
  });

  it('reports GitHub and npm tokens whose checksum holds; one character changed is no such token', async () => {
    const github = fakeChecksummedToken('ghp_');
    const npm = fakeChecksummedToken('npm_');
    const r = tempTree({
      'ci/tokens.txt': `${github}\n${npm}\n`,
      'ci/typos.txt': `${withOneCharacterChanged(github)}\n${withOneCharacterChanged(npm)}\n`,
      'ci/deploy.env': `GH_TOKEN=${withOneCharacterChanged(fakeChecksummedToken('gho_'))}\n`,
    });
    const result = await runSecrets(['scan', '--json'], { cwd: r.dir });
    expect(result.code).toBe(1);
    const found = JSON.parse(result.stdout).findings.map(
      (f: { file: string; line: number; ruleId: string; severity: string }) =>
        `${f.file}:${f.line} ${f.ruleId} ${f.severity}`,
    );
    expect(found).toEqual([
      'ci/deploy.env:1 generic-secret-assignment medium',
      'ci/tokens.txt:1 github-token high',
      'ci/tokens.txt:2 npm-token high',
    ]);
  });
  it("finds older-format provider tokens as the default of an environment lookup; one character outside the token's alphabet is no such token", async () => {
    const tokens = {
      SLACK_TOKEN: `xoxb-${fake.digits(11)}-${fake.digits(13)}u`,
      PULUMI_ACCESS_TOKEN: `pul-${fake.lowerAlnum(40)}`,
      POSTMAN_API_KEY: `PMAK-${fake.alnum(59)}`,
      TAILSCALE_AUTHKEY: `tskey-${fake.lower(8)}-${fake.alnum(20)}_${fake.alnum(30)}-${fake.alnum(40)}`,
    };
    const broken = (value: string) => `${value.slice(0, 16)}?${value.slice(17)}`;
    const names = Object.keys(tokens) as Array<keyof typeof tokens>;
    const r = tempTree({
      'app/settings.py':
        ['import os', ...names.map((n) => `${n} = os.environ.get("${n}", "${tokens[n]}")`)].join('\n') + '\n',
      'app/config.js': names.map((n) => `export const ${n} = process.env.${n} || "${tokens[n]}";`).join('\n') + '\n',
      'app/typos.js':
        names.map((n) => `export const ${n} = process.env.${n} || "${broken(tokens[n])}";`).join('\n') + '\n',
    });
    const result = await runSecrets(['scan', '--json'], { cwd: r.dir });
    expect(result.code).toBe(1);
    const found = JSON.parse(result.stdout).findings.map(
      (f: { file: string; line: number; ruleId: string }) => `${f.file}:${f.line} ${f.ruleId}`,
    );
    const rules = ['slack-token', 'pulumi-token', 'postman-api-key', 'tailscale-key'];
    expect(found).toEqual([
      ...rules.map((rule, i) => `app/config.js:${i + 1} ${rule}`),
      ...rules.map((rule, i) => `app/settings.py:${i + 2} ${rule}`),
    ]);
    for (const value of Object.values(tokens)) expect(result.stdout).not.toContain(value);
  });
});

describe('the non-secrets of real repositories, tried as a scan of express, numpy and node_modules showed them', () => {
  it('leaves handles, markers, assembly tokens, badge tokens, documentation credentials and code alone', async () => {
    const hex = (n: number) => fake.hex(n);
    const r = tempTree({
      'Contributing.md': `- basic-auth: @${fake.lower(11)}\n- [\`jshttp/cookie\`](https://github.com/jshttp/cookie): @${fake.lower(9)}\n`,
      'README.md': [
        `[![coverage](https://codecov.io/gh/o/r/branch/main/graph/badge.svg?token=${fake.alnum(10)})](https://codecov.io)`,
        `Connect with \`redis://app:${fake.alnum(12)}@cache.example.com:6379\`.`,
        `const config = parse('postgres://someuser:somepassword@somehost:381/somedatabase')`,
      ].join('\n'),
      'lib/request.js': [
        '/**',
        ` * Parse the credentials, e.g. http://${fake.lower(4)}:${fake.alnum(8)}@example.com`,
        ' * @returns {Promise<{secretKey: Uint8Array, sharedKey: Uint8Array}>}',
        ' */',
        'const secretKey = b64ToUint8Array(secret.d);',
        'this.sessionKeyAlgorithm = e ? a : this.sessionKeyAlgorithm;',
        'if (typeof this.password === "function") {}',
        'output = token.close = `)${expression})${extglobStar})`;',
        `const curve = { Gx: BigInt("0x${hex(64)}"), Gy: BigInt("0x${hex(64)}") };`,
        'lastSignificantToken = "?NoLineTerminatorHere";',
      ].join('\n'),
      // Built from parts: written whole, this test's own source would hold the same code in a string.
      'types/index.d.ts': [
        'export function decrypt(sessionKey: Uint8',
        'Array, googleCredentials: OAuth2',
        'Client): void;\n',
      ].join(''),
      'windows/app.manifest': `<assemblyIdentity type="win32" name="Microsoft.VC90.CRT" publicKeyToken="${hex(16)}"></assemblyIdentity>\n`,
      'tools/config.py': "search_token = '#mesondefine'\nother_token = '#cmakedefine'\n",
      'test/redis.test.js': 'const opts = { password: "fallback-password", port: 30001 };\n',
      'docs/examples/list-jobs.rst': [
        `    "NextToken": "${fake.base64(60)}",`,
        '    "PasswordLastUsed": "2016-09-08T21:47:36Z",',
        `    https://s3.amazonaws.com/x?X-Amz-Credential=AKIA${'EXAMPLE'}${fake.base32(9)}%2F20170824`,
      ].join('\n'),
      'schemas/providers.py': `TYPES = {\n    "AWS::SecretsManager::Secret": "${hex(16)}",\n}\n`,
      'auth/models.py': [
        'FORCE_CHANGE_PASSWORD = "FORCE_CHANGE_PASSWORD"',
        'basic_auth = self._construct_basic_auth(username, password)',
      ].join('\n'),
    });
    const result = await runSecrets(['scan', '--json'], { cwd: r.dir });
    expect(JSON.parse(result.stdout).findings).toEqual([]);
    expect(result.code).toBe(0);
  });

  it('still reports a commented-out setting, an env file held in a code string, JSON held in a string, a YAML PASS:, a client token, example-host credentials in code and a key outside BigInt', async () => {
    const token = fake.alnum(31) + '7';
    const password = fake.alnum(12) + '3';
    const key = fake.hex(64);
    const r = tempTree({
      'app/config.js': `// API_TOKEN=${token}\nconst BACKUP = "https://backup:${password}@backup.example.com";\n`,
      'app/wallet.js': `const signer = new Wallet("0x${key}");\n`,
      'tests/fixtures.py': `ENV_FILE = \"\"\"\nDEBUG=1\nAPI_TOKEN=${token}\n\"\"\"\n`,
      'deploy/compose.yml': `environment:\n  PASS: ${password}\n`,
      'aws/secret.json': `{ "SecretString": "{\\"username\\":\\"app\\",\\"password\\":\\"${password}\\"}" }\n`,
      'vault/agent.cfg': `client_token = "${token}"\n`,
    });
    const result = await runSecrets(['scan', '--json'], { cwd: r.dir });
    expect(result.code).toBe(1);
    const found = JSON.parse(result.stdout).findings.map(
      (f: { file: string; line: number; ruleId: string }) => `${f.file}:${f.line} ${f.ruleId}`,
    );
    expect(found).toEqual([
      'app/config.js:1 generic-secret-assignment',
      'app/config.js:2 url-credentials',
      'app/wallet.js:1 wallet-private-key',
      'aws/secret.json:1 generic-secret-assignment',
      'deploy/compose.yml:2 generic-secret-assignment',
      'tests/fixtures.py:3 generic-secret-assignment',
      'vault/agent.cfg:1 generic-secret-assignment',
    ]);
  });
});

describe("leak shapes an attacker's review of the context rules found, each still reported", () => {
  it('finds a secret in a config held in code, a URL, a command, a comment, a scoped or typed name, a header, a setter, a placeholder default, a Terraform default, a Gradle password, and more', async () => {
    const tok = () => fake.alnum(39) + '7';
    const pw = () => `${fake.alnum(12)}!${fake.digits(2)}`;
    const q = '"""';
    const files: Record<string, string> = {
      'a/config_in_string.py': `X = ${q}\n  api_token: ${tok()}\n${q}\n`,
      'a/query.js': `fetch("https://api.weather-svc.net/v1?api_key=${tok()}&city=" + c);\n`,
      'a/command.py': `subprocess.run("API_TOKEN=${tok()} ./deploy.sh", shell=True)\n`,
      'a/comment.js': `// TODO remove: apiKey=${tok()};\n`,
      'a/scoped.cpp': `const std::string Config::API_SECRET = "${tok()}";\n`,
      'a/ddns.env': `DDNS_UPDATE_TOKEN=${tok()}\n`,
      'a/sigil.yml': `client_secret: "#${fake.letters(40)}"\n`,
      'a/json.env': `${'API_KEYS'}_JSON='{"stripe":"${tok()}"}'\n`,
      'a/creds.txt': `USER: ops-admin\nPASS: ${pw()}\n`,
      'a/key.js': `const privateKey = BigInt("0x${fake.hex(64)}");\n`,
      'a/npm.env': `npm_config__auth=${fake.base64(40)}\n`,
      'a/raw.md': `![](https://raw.githubusercontent.com/corp/private/main/a.png?token=${tok()})\n`,
      'a/typed.kt': `val apiToken: String = "${tok()}"\n`,
      'a/typed.ts': `export const API_TOKEN: string = "${tok()}";\n`,
      'a/typed.rs': `pub const API_TOKEN: &str = "${tok()}";\n`,
      'a/fstring.py': `password = f"${pw()}"\n`,
      'a/verbatim.cs': `var password = @"${pw()}";\n`,
      'a/bytes.go': `var jwtSecret = []byte("${tok()}")\n`,
      'a/passphrase.yml': `gpg_passphrase: ${pw()}\n`,
      'a/hardhat.config.js': `module.exports = { networks: { main: { accounts: ["0x${fake.hex(64)}"] } } };\n`,
      'a/secret.h': `#define API_SECRET "${tok()}"\n`,
      'a/export.sh': `openssl pkcs12 -export -in c.pem -out c.p12 -passout pass:${pw()}\n`,
      'a/client.py': `headers = {"Authorization": "Bearer ${tok()}"}\n`,
      'a/DataSourceConfig.java': `dataSource.setPassword("${pw()}");\n`,
      'a/connect.ps1': `$password = ConvertTo-SecureString "${pw()}" -AsPlainText -Force\n`,
      'a/AppConfig.java': `@Value("\${db.password:${pw()}}")\n`,
      'a/docker-compose.yml': `environment:\n  POSTGRES_PASSWORD: \${POSTGRES_PASSWORD:-${pw()}}\n`,
      'a/variables.tf': `variable "db_password" {\n  sensitive = true\n  default   = "${pw()}"\n}\n`,
      'a/build.gradle': `repositories {\n  maven {\n    credentials {\n      username 'deploy'\n      password '${pw()}'\n    }\n  }\n}\n`,
    };
    const r = tempTree(files);
    const result = await runSecrets(['scan', '--json'], { cwd: r.dir });
    expect(result.code).toBe(1);
    const reported = new Set(JSON.parse(result.stdout).findings.map((f: { file: string }) => f.file));
    expect(Object.keys(files).filter((file) => !reported.has(file))).toEqual([]);
  });
});
