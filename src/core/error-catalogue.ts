/**
 * Every error code `secrets` can print, with its exit code and one line of meaning. Codes are
 * stable: scripts match on them (`--json` prints `error.code`) and docs/errors.md is generated
 * from this table (npm run docs:errors). The exit code belongs to the code: a failure that needs
 * another exit code is another code, so a code never means "3 here, 4 there".
 *
 * `remedy` is the general next step, for the docs; the message at the throw site says the specific one.
 */
interface CatalogueEntry {
  /** 3: nothing changed (or could not run). 4: failed part-way and could not roll back: a human must act. */
  readonly exit: 3 | 4;
  readonly meaning: string;
  readonly remedy?: string;
}

export const errorCatalogue = {
  // --- command line and process
  'renamed-option': {
    exit: 3,
    meaning: 'An option was renamed (init --env-file is now --dotenv: node itself reads --env-file).',
    remedy: 'Use the new spelling the message gives.',
  },
  'output-unwritable': {
    exit: 3,
    meaning: 'check --output could not write its file (a folder that does not exist, no permission); nothing written.',
    remedy: 'Create the folder or fix the path; the check itself ran and --notify still sent.',
  },
  'listen-failed': {
    exit: 3,
    meaning: 'secrets dingtalk-server could not listen on 127.0.0.1 at the port asked for.',
    remedy: 'Choose another --port, or leave it out for a free one.',
  },
  usage: {
    exit: 3,
    meaning: 'The command line could not be parsed (unknown option, missing argument).',
    remedy: 'See secrets COMMAND --help.',
  },
  'bad-option': {
    exit: 3,
    meaning: 'Options that exclude each other, or an option missing its partner.',
    remedy: 'See secrets COMMAND --help.',
  },
  'bad-date': { exit: 3, meaning: 'A date option is not a date like 2026-09-30.' },
  'bad-duration': { exit: 3, meaning: 'A duration is not like 90d, 12h or 5s.' },
  'bad-env-name': { exit: 3, meaning: 'An environment variable name given on the command line is not a valid name.' },
  cancelled: { exit: 3, meaning: 'The operator said no at a confirmation prompt; nothing was changed.' },
  interrupted: { exit: 3, meaning: 'The run was interrupted (Ctrl-C or a signal) before it changed anything.' },
  'not-interactive': {
    exit: 3,
    meaning: 'A hidden prompt was needed but there is no terminal.',
    remedy: 'Run on a terminal, or feed the value on standard input.',
  },
  'no-input': {
    exit: 3,
    meaning: 'A new value was needed but there is no terminal and nothing on standard input.',
    remedy: 'Pipe the values in dotenv form on standard input.',
  },
  unexpected: {
    exit: 3,
    meaning: 'An error the tool did not anticipate; the message is the underlying one.',
    remedy: 'Re-run with SECRETS_DEBUG=1 and report the stack trace.',
  },
  locked: {
    exit: 3,
    meaning: 'Another secrets run holds the lock on the state folder.',
    remedy: 'Wait for it (rotate --wait). A lock whose holder died is taken over by the next run on its own.',
  },
  'lock-symlink': {
    exit: 3,
    meaning: 'The lock file in the state folder is a symbolic link; it is never followed.',
    remedy: 'Remove the link.',
  },
  'state-symlink': {
    exit: 3,
    meaning: 'The state folder is a symbolic link; nothing is written or chmodded through it.',
    remedy: 'Replace the link with a real folder, or set state_dir to the real path.',
  },
  'state-not-a-folder': { exit: 3, meaning: 'The state folder path exists but is not a folder.' },
  'state-foreign-owner': {
    exit: 3,
    meaning: 'The state folder belongs to another user than the one running secrets.',
    remedy: 'Run as the owner of the deployment, or chown the folder.',
  },
  'audit-broken': {
    exit: 3,
    meaning: 'The audit trail does not match its head (lines removed or edited); every change is refused.',
    remedy: 'See secrets log --verify; once you know what happened, secrets log --repair records it.',
  },

  // --- the policy file
  'init-empty': {
    exit: 3,
    meaning: 'init found nothing to manage (no .env secret, no htpasswd file) and wrote no policy.',
    remedy: 'Pass --dotenv FILE or --htpasswd FILE, or write the policy by hand (policies/*.yaml).',
  },
  'policy-missing': {
    exit: 3,
    meaning: 'No policy file was found.',
    remedy: 'Run secrets init, or pass --policy FILE / set SECRETS_POLICY.',
  },
  'policy-yaml': { exit: 3, meaning: 'The policy file is not valid YAML.' },
  'policy-invalid': {
    exit: 3,
    meaning: 'The policy file does not match the schema (the message names the field and line).',
    remedy: 'Compare with policies/schema.json.',
  },
  'policy-exists': { exit: 3, meaning: 'init found a policy file already in place and did not overwrite it.' },
  'unknown-secret': { exit: 3, meaning: 'A secret id is not in the policy.' },
  'init-invalid-policy': {
    exit: 3,
    meaning: 'init drafted a policy that does not validate: a bug in init.',
    remedy: 'Report it with the message.',
  },
  'root-missing': { exit: 3, meaning: 'The deployment root is not a folder.' },
  'kind-unsupported': { exit: 3, meaning: 'This version cannot rotate secrets of that kind.' },

  // --- the .env file
  'env-key-missing': {
    exit: 3,
    meaning: 'A policy env_key is not in the .env: rotating would add a key the app may not read.',
    remedy: 'Fix env_key in the policy, or pass rotate --add if the key is meant to be new.',
  },
  'reused-value': {
    exit: 3,
    meaning: 'The new value of a manual secret is one the audit trail has seen for it before.',
    remedy: 'Get a fresh value from the service that issues it.',
  },
  'env-missing': {
    exit: 3,
    meaning: 'The env file does not exist.',
    remedy: 'Create it (mode 600) with the managed keys.',
  },
  'env-syntax': { exit: 3, meaning: 'A line of the env file cannot be read as KEY=value.' },
  'env-duplicate': {
    exit: 3,
    meaning: 'A managed key is set twice in the env file.',
    remedy: 'Remove one of the lines.',
  },
  'env-unquotable': {
    exit: 3,
    meaning: 'A new value holds characters no quoting style keeps identical for every dotenv reader.',
  },
  'env-edit': {
    exit: 3,
    meaning: 'Internal check: an edited env line would not read back as written; nothing was written.',
  },
  'bad-value': { exit: 3, meaning: 'A new value given for a key is not acceptable (shape, length, characters).' },
  'values-differ': { exit: 3, meaning: 'The two entries of a value typed twice differ.' },
  placeholder: { exit: 3, meaning: 'A new value is a placeholder (changeme, xxx, your-key-here).' },
  'same-value': { exit: 3, meaning: 'The new value equals the current one: nothing would be rotated.' },

  // --- rotation
  'rotate-failed': {
    exit: 3,
    meaning: 'Several secrets were selected and some were refused or rolled back; the others went on.',
    remedy: 'See the failed list; re-run secrets rotate ID for each.',
  },
  'rotation-rolled-back': { exit: 3, meaning: 'A step after the swap failed and every file was put back as it was.' },
  'needs-confirmation': {
    exit: 3,
    meaning: 'A manual secret needs a person to confirm the steps were done.',
    remedy: 'Run on a terminal, or pass --yes once the steps are done.',
  },
  'random-bad': { exit: 3, meaning: 'A generated random value does not have the expected shape (internal check).' },
  'random-same': { exit: 3, meaning: 'A generated random value equals the current one (internal check).' },
  'hook-failed': { exit: 3, meaning: 'An after_change hook exited non-zero or timed out.' },
  'journal-corrupt': {
    exit: 4,
    meaning: 'The rotation journal of an interrupted rotation cannot be read.',
    remedy: 'Compare the files it names with the newest backup by hand, then remove it.',
  },
  'recover-conflict': {
    exit: 4,
    meaning: 'An interrupted rotation cannot be finished or rolled back safely: the files changed since.',
    remedy: 'Decide which content is right, put it in place, then remove the journal folder.',
  },
  'rollback-conflict': {
    exit: 4,
    meaning: 'A rollback found files changed by someone else after the swap and left them alone.',
  },
  'rollback-failed': { exit: 4, meaning: 'A rollback could not put a file back.' },
  'rollback-hook-failed': {
    exit: 4,
    meaning: 'The files were rolled back but an after_change hook failed on the way back.',
  },

  // --- htpasswd
  'htpasswd-file': { exit: 3, meaning: 'An htpasswd option was given without the file it needs.' },
  'htpasswd-missing': { exit: 3, meaning: 'The htpasswd file does not exist.' },
  'htpasswd-syntax': { exit: 3, meaning: 'A line of the htpasswd file is not user:hash.' },
  'htpasswd-duplicate': { exit: 3, meaning: 'A user appears on more than one line of the htpasswd file.' },
  'htpasswd-hash': { exit: 3, meaning: 'A hash is empty or holds ":" or a line break.' },
  'htpasswd-user': { exit: 3, meaning: 'The htpasswd user is missing or not a valid user name.' },
  'htpasswd-user-missing': { exit: 3, meaning: 'The user to lock out has no line in the htpasswd file.' },
  'htpasswd-undeliverable': {
    exit: 3,
    meaning: 'A generated password would reach nobody: no terminal and no deliver: recipients.',
    remedy: 'Run on a terminal, add deliver: recipients, or use --password-stdin.',
  },
  'deliver-recipient': { exit: 3, meaning: 'A deliver: recipient key file does not exist or cannot be read.' },
  'weak-password': { exit: 3, meaning: 'A chosen password is refused as too weak or guessable.' },
  'password-mismatch': { exit: 3, meaning: 'The two typed passwords differ.' },
  'password-stdin': { exit: 3, meaning: 'Standard input does not hold exactly one password line.' },
  'current-password-mismatch': {
    exit: 3,
    meaning: 'The password typed as the current one does not match the htpasswd line.',
  },
  'probe-failed': { exit: 3, meaning: 'The HTTP probe did not get the expected status through the web server.' },
  'probe-unreachable': { exit: 3, meaning: 'The HTTP probe could not reach its URL.' },

  // --- revoke
  'already-revoked': { exit: 3, meaning: 'The secret is already locked out.' },
  'revoke-past-only': {
    exit: 3,
    meaning:
      'The leak found is a past value of the secret; its current value was never seen leaked, so it was not revoked.',
    remedy:
      'Purge the old value: secrets revoke --past ID. If the current value leaked too: secrets revoke ID --current.',
  },
  'revoke-nothing': {
    exit: 3,
    meaning: 'revoke --leaked-in found no managed value in that commit or range, or no secret was named.',
    remedy: 'Check the revision (git show REV), or name the secrets: secrets revoke ID...',
  },

  // --- DingTalk and notify
  'dingtalk-refused': { exit: 3, meaning: 'DingTalk answered with an error (signature, keyword, rate limit).' },
  'dingtalk-timeout': { exit: 3, meaning: 'DingTalk did not answer in time.' },
  'dingtalk-unreachable': { exit: 3, meaning: 'DingTalk could not be reached (DNS, connection, TLS).' },
  'notify-unset': { exit: 3, meaning: 'The policy names no robot to notify, or its keys are not in the env file.' },

  // --- backup
  'backup-options': { exit: 3, meaning: 'backup options that go one at a time were combined.' },
  'backup-no-material': {
    exit: 3,
    meaning: 'No backup passphrase (the variable is unset and there is no terminal) and no recipients.',
    remedy: 'Set the passphrase variable named by backup.passphrase_env, or add backup.recipients.',
  },
  'backup-recipient-unreadable': { exit: 3, meaning: "A backup recipient's public key file cannot be read." },
  'key-unreadable': { exit: 3, meaning: 'The private key file (--key) cannot be read.' },
  'passphrase-empty': { exit: 3, meaning: 'An empty backup passphrase was typed.' },
  'passphrase-mismatch': { exit: 3, meaning: 'The two typed backup passphrases differ.' },
  'backup-not-a-file': { exit: 3, meaning: 'A path to back up is not a regular file.' },
  'backup-read-failed': { exit: 3, meaning: 'A file to back up cannot be read.' },
  'backup-nothing': { exit: 3, meaning: 'None of the files to back up exists.' },
  'backup-dir-unwritable': { exit: 3, meaning: 'The backup folder cannot be created.' },
  'backup-dir-unreadable': { exit: 3, meaning: 'The backup folder cannot be listed.' },
  'backup-write-failed': { exit: 3, meaning: 'The backup file cannot be written.' },
  'backup-verify-failed': {
    exit: 3,
    meaning: 'The new backup did not decrypt back to the same files; it was deleted.',
  },
  'adopt-missing': { exit: 3, meaning: 'The file to adopt does not exist.' },
  'adopt-live-file': { exit: 3, meaning: 'The file to adopt is a live secret file of the policy, not a copy.' },
  'adopt-already-encrypted': { exit: 3, meaning: 'The file to adopt is already an OpenPGP message.' },
  'adopt-remove-failed': {
    exit: 4,
    meaning: 'The plaintext copy was encrypted into a backup but could not be removed.',
    remedy: 'Remove the plaintext copy by hand.',
  },

  // --- restore
  'restore-options': { exit: 3, meaning: 'restore options that exclude each other were combined.' },
  'restore-unreadable': { exit: 3, meaning: 'The backup file cannot be read.' },
  'restore-damaged': { exit: 3, meaning: 'The archive inside the backup is damaged or does not match its checksums.' },
  'restore-nothing': { exit: 3, meaning: 'No file in the backup is managed by the policy.' },
  'restore-target-exists': { exit: 3, meaning: 'The restore folder exists and is not empty.' },
  'restore-write-failed': { exit: 3, meaning: 'The restored files could not be written; nothing was changed.' },
  'backup-too-large': {
    exit: 3,
    meaning:
      'The backup unpacks to more than backup.max_size_mib (64 MiB by default): a compression bomb, or a genuinely large backup.',
    remedy: 'If it is genuine, raise backup.max_size_mib in the policy.',
  },
  'backup-dir-symlink': {
    exit: 3,
    meaning: 'The backups folder is a symbolic link; backups are never written through it.',
    remedy: 'Replace the link with a real folder, or point backup.dir at the real path.',
  },
  'adopt-own-file': {
    exit: 3,
    meaning:
      "backup --adopt was given one of secrets' own files (state folder, backups, policy), not a plaintext copy.",
  },
  'passphrase-too-long': {
    exit: 3,
    meaning: 'The backup passphrase is longer than gpg can use (4 KiB); a backup made with it would not open with gpg.',
  },
  'passphrase-line-break': {
    exit: 3,
    meaning: 'The backup passphrase holds a line break; gpg --passphrase-file would read a different passphrase.',
  },
  'link-dangling': {
    exit: 3,
    meaning: 'A secret file is a symbolic link to a file that does not exist; nothing was written.',
    remedy: 'Point the link at the file the service reads.',
  },
  'foreign-owner': {
    exit: 3,
    meaning:
      'A secret file belongs to another user than this one, the policy owner or root; no new value is written into it.',
    remedy: 'Find out who replaced it (ls -ln), restore it from a backup, fix the folder permissions.',
  },

  // --- OpenPGP
  'pgp-bad-key': { exit: 3, meaning: 'A recipient file is not a readable OpenPGP public key.' },
  'pgp-no-encryption-key': {
    exit: 3,
    meaning: 'A public key has no usable encryption subkey (signing-only, expired or revoked).',
  },
  'pgp-no-material': { exit: 3, meaning: 'Nothing to encrypt with: no recipient and no passphrase.' },
  'pgp-not-a-message': { exit: 3, meaning: 'The file is not a complete OpenPGP message.' },
  'pgp-bad-private-key': { exit: 3, meaning: 'The --key file is not an OpenPGP private key.' },
  'pgp-key-locked': { exit: 3, meaning: 'The private key is protected by a passphrase and none was given.' },
  'pgp-key-passphrase': { exit: 3, meaning: 'Wrong passphrase for the private key.' },
  'pgp-wrong-key': { exit: 3, meaning: 'The backup was not made for this key.' },
  'pgp-needs-key': {
    exit: 3,
    meaning: 'The backup opens with a private key, not a passphrase.',
    remedy: 'Use restore --key FILE.',
  },
  'pgp-needs-passphrase': { exit: 3, meaning: 'The backup opens with a passphrase and none was given.' },
  'pgp-cannot-decrypt': {
    exit: 3,
    meaning: 'The backup does not decrypt with what was given (wrong key or passphrase, or damaged).',
  },
  'pgp-damaged': { exit: 3, meaning: 'The backup is damaged or truncated (its integrity check failed).' },

  // --- two-person approval (docs/approval.md)
  'approval-required': {
    exit: 3,
    meaning: "The secret is under the policy's approval: section and no signed change request was given.",
    remedy:
      'secrets rotate ID --request FILE; approvers: secrets approve FILE --key KEY; then secrets rotate --approved FILE.',
  },
  'approval-not-configured': {
    exit: 3,
    meaning: 'The policy has no approval: section, so there is nothing to approve.',
  },
  'not-approved': {
    exit: 3,
    meaning:
      'The change request lacks enough valid signatures by distinct pinned approvers, expired, was carried out before, or its files or plan changed since.',
    remedy: 'The message names each missing part; gather signatures or make a new request.',
  },
  'request-missing': { exit: 3, meaning: 'The change request file cannot be read.' },
  'request-invalid': { exit: 3, meaning: 'The file is not a change request written by secrets rotate --request.' },
  'request-edited': {
    exit: 3,
    meaning: 'The change request is not byte for byte the canonical JSON it was written as (edited by hand).',
    remedy: 'Make a new request.',
  },
  'request-exists': { exit: 3, meaning: 'A file is already at the --request path; a request is never overwritten.' },
  'request-expired': {
    exit: 3,
    meaning: 'The change request is past its expiry (approval.valid_for); nothing was signed.',
  },
  'request-other-deployment': {
    exit: 3,
    meaning: 'This deployment has no fingerprint key, so the change request was made on another one.',
  },
  'rotation-interrupted': {
    exit: 3,
    meaning: 'An interrupted rotation must be recovered before an approved one runs.',
    remedy: 'secrets rotate --recover, then make a new request.',
  },
  'signature-missing': { exit: 3, meaning: 'A --signature file cannot be read.' },
  'approver-key-missing': { exit: 3, meaning: 'An approval.approvers key file cannot be read.' },
  'pgp-private-key-pinned': {
    exit: 3,
    meaning: 'An approval.approvers file holds a private key; pin public keys only.',
  },
  'pgp-cannot-sign': { exit: 3, meaning: 'The private key cannot sign (expired or revoked).' },
  'not-an-approver': { exit: 3, meaning: 'The signing key is not one of the pinned approval.approvers keys.' },
  'approver-key-invalid': { exit: 3, meaning: "The approver's pinned key is expired or revoked." },
  'not-a-revocation': { exit: 3, meaning: 'secrets approve --after names an audit entry that is not a revocation.' },
  'nothing-to-approve': { exit: 3, meaning: 'The revocation named by --after awaits no approval.' },

  // --- tar (the archive inside a backup)
  'tar-corrupt': { exit: 3, meaning: 'Not a valid tar archive.' },
  'tar-truncated': { exit: 3, meaning: 'The tar archive is truncated.' },
  'tar-name-too-long': { exit: 3, meaning: 'A path is too long for a tar archive.' },
  'tar-field-too-long': { exit: 3, meaning: 'A tar header field is too long.' },
  'tar-value-too-large': { exit: 3, meaning: 'A tar header value is too large.' },

  // --- scan and git
  'not-a-repository': { exit: 3, meaning: 'The command needs a git repository and the folder is not in one.' },
  'git-failed': { exit: 3, meaning: 'A git command failed.' },
  'bad-revision': { exit: 3, meaning: 'git could not list the commits of the given revision range.' },
  'scan-path-missing': { exit: 3, meaning: 'A path given to secrets scan does not exist.' },
  'baseline-invalid': { exit: 3, meaning: 'The scan baseline file is not valid.' },
  'hook-exists': {
    exit: 3,
    meaning: 'A pre-commit hook that secrets did not write is already installed; it was left alone.',
  },

  // --- databases and caches (the postgres and redis kinds)
  'url-unparsable': {
    exit: 3,
    meaning: 'A connection URL in .env (or an admin URL) does not parse as scheme://user:password@host:port/….',
    remedy: 'Fix the URL the message names (file:line); nothing was changed.',
  },
  'admin-url-missing': {
    exit: 3,
    meaning: 'admin_url_env names an environment variable that is not set.',
    remedy: 'Export the admin URL in the environment secrets runs in (never in .env).',
  },
  'url-no-user': { exit: 3, meaning: 'The database URL names no user, so there is no role to rotate.' },
  'pg-unreachable': {
    exit: 3,
    meaning: 'The Postgres server cannot be reached (down, wrong host or port, timeout); nothing was changed.',
  },
  'pg-login-refused': {
    exit: 3,
    meaning: 'Postgres refused the credential used to connect (the one in .env, or the admin URL).',
    remedy: 'secrets check --live tells whether the .env password still works; fix the URL.',
  },
  'pg-denied': {
    exit: 3,
    meaning: 'The connecting role may not change the password (it needs CREATEROLE or superuser).',
  },
  'pg-port-invalid': {
    exit: 3,
    meaning: 'The env key the postgres policy names as port_key does not hold a port number (1 to 65535).',
    remedy: 'Fix the value at the file:line the message names; nothing was changed.',
  },
  'pg-missing': { exit: 3, meaning: 'Postgres answered that a database or role does not exist.' },
  'pg-other': { exit: 3, meaning: 'Postgres refused a statement; the message is the server’s.' },
  'pg-role-missing': { exit: 3, meaning: 'The role in the database URL does not exist on the server.' },
  'pg-needs-admin': {
    exit: 3,
    meaning: 'strategy: alternating needs admin_url_env (a role that may create and alter the pair).',
  },
  'pg-test-failed': {
    exit: 3,
    meaning: 'The new password did not log in on a fresh connection; the previous one was put back.',
  },
  'redis-unreachable': { exit: 3, meaning: 'The Redis server cannot be reached; nothing was changed.' },
  'redis-login-refused': { exit: 3, meaning: 'Redis refused the credential used to connect (AUTH failed).' },
  'redis-denied': {
    exit: 3,
    meaning: 'The connecting Redis user may not change passwords (ACL SETUSER, CONFIG).',
    remedy: 'Allow those commands for it, or name admin_url_env.',
  },
  'redis-missing': { exit: 3, meaning: 'Redis does not know a command secrets needs.' },
  'redis-other': { exit: 3, meaning: 'Redis refused a command; the message is the server’s (arguments cut out).' },
  'redis-no-acl': {
    exit: 3,
    meaning: 'The Redis server has no ACL support (before Redis 6).',
    remedy: 'Set user: requirepass in the policy, or upgrade Redis.',
  },
  'redis-user-missing': { exit: 3, meaning: 'The ACL user the policy rotates does not exist on the server.' },
  'redis-user-mismatch': { exit: 3, meaning: 'The Redis URL logs in as another ACL user than the policy rotates.' },
  'redis-test-failed': {
    exit: 3,
    meaning: 'The new Redis password did not log in on a fresh connection; the server was put back.',
  },
  'recover-no-login': {
    exit: 4,
    meaning: 'After an interrupted rotation, neither the pending, the current nor the previous credential logs in.',
    remedy:
      'Set the pending password (in the state folder, mode 600) on the server by hand, put it in .env, remove the file.',
  },
  'recover-unreachable': {
    exit: 4,
    meaning: 'An interrupted database or cache rotation cannot be finished while the server is unreachable.',
    remedy: 'Run secrets rotate --recover again once the server is up.',
  },
  'recover-unknown': {
    exit: 4,
    meaning: 'A pending credential belongs to a secret the policy no longer has as that kind.',
  },
  'recover-hook-failed': {
    exit: 4,
    meaning: 'Recovery made .env hold the credential the server accepts, but an after_change hook failed.',
    remedy: 'Fix what the hook reports and run the hooks by hand.',
  },
  'pending-corrupt': {
    exit: 4,
    meaning: 'A pending credential record in the state folder cannot be read.',
  },

  // --- several hosts: the fleet on etcd (docs/fleet.md)
  'etcd-unreachable': {
    exit: 3,
    meaning:
      'No etcd quorum answered at the fleet endpoints (down, no quorum, wrong address, TLS or authentication refused).',
    remedy: 'Check the endpoints the message lists (etcdctl endpoint health); per-host secrets keep working meanwhile.',
  },
  'etcd-credentials': {
    exit: 3,
    meaning: 'A fleet.etcd TLS file cannot be read, or password_env names an unset variable.',
  },
  'fleet-exists': {
    exit: 3,
    meaning: 'fleet init: the prefix already holds a fleet.',
    remedy: 'secrets fleet join, then ask a member to admit this host.',
  },
  'fleet-missing': {
    exit: 3,
    meaning: "There is no fleet at the policy's prefix.",
    remedy: 'secrets fleet init on the first host.',
  },
  'fleet-not-member': {
    exit: 3,
    meaning: 'This host is not a member of the fleet (never admitted, or removed).',
    remedy: 'secrets fleet join here, then secrets fleet admit HOST on a member.',
  },
  'fleet-already-member': { exit: 3, meaning: 'The host is already a member of the fleet.' },
  'fleet-request-missing': {
    exit: 3,
    meaning: 'fleet admit: no join request from that host.',
    remedy: 'Run secrets fleet join on that host first.',
  },
  'fleet-fingerprint-required': {
    exit: 3,
    meaning: 'fleet admit without a terminal needs --fingerprint: the key of the request must be confirmed.',
    remedy: 'Read the fingerprint fleet join printed on the new host, and pass it with --fingerprint.',
  },
  'fleet-fingerprint-mismatch': {
    exit: 3,
    meaning: "The join request's key is not the one whose fingerprint was given: someone else may have published it.",
    remedy: 'Compare with what fleet join printed on the host; if it differs, do not admit it.',
  },
  'fleet-busy': {
    exit: 3,
    meaning: 'Another rotation or membership change holds the fleet lock.',
    remedy: 'Wait for it, or after a crash wait lock_ttl for its lease to expire.',
  },
  'fleet-pending': {
    exit: 3,
    meaning: 'A rotation of this shared secret is still pending (--partial-ok or a rotator that died).',
    remedy: "secrets rotate --recover on any member finishes or undoes it; a laggard's secrets sync completes it.",
  },
  'fleet-rolled-back': {
    exit: 3,
    meaning:
      'A member failed or did not acknowledge the new version in time: the fleet went back to the previous version.',
    remedy: 'Bring the named hosts back (secrets sync there), or rotate with --partial-ok.',
  },
  'fleet-lock-lost': {
    exit: 4,
    meaning: 'The rotator lost its etcd lease part-way through a shared rotation.',
    remedy: 'secrets rotate --recover on any member finishes or undoes it.',
  },
  'fleet-no-value': {
    exit: 3,
    meaning: 'A shared secret the fleet has no version of yet, and this host has no value of it to upload first.',
    remedy: 'Rotate it from a host whose env file holds it, or add it here first.',
  },
  'fleet-interrupted': {
    exit: 4,
    meaning: 'etcd stopped answering part-way through a shared rotation, after its new version was stored.',
    remedy: 'When etcd answers again, secrets rotate --recover on any member finishes or undoes it.',
  },
  'fleet-key-missing': {
    exit: 3,
    meaning: "This host's fleet key pair (state folder, fleet/host.key) is missing or unreadable.",
    remedy: 'A host that lost its key joins again (fleet join, then admit) under a new key.',
  },
  'fleet-decrypt-failed': {
    exit: 3,
    meaning:
      "This member's key cannot decrypt a value stored in the fleet (encrypted before it was admitted, or damaged).",
    remedy: 'Ask another member to run secrets fleet admit HOST again, which re-encrypts every value.',
  },
  'fleet-store-invalid': { exit: 3, meaning: 'A fleet record in etcd is missing or not what this version writes.' },
  'fleet-audit-broken': {
    exit: 3,
    meaning: 'The fleet audit chain in etcd does not verify; shared rotations are refused.',
    remedy: 'See secrets log --verify on a member.',
  },
  'fleet-last-member': { exit: 3, meaning: 'fleet remove would leave the fleet without a member.' },
  'fleet-apply-failed': {
    exit: 3,
    meaning:
      "sync could not apply a shared secret's version on this host; nothing of it stays there, and the failure was reported to the fleet.",
  },

  // --- demo
  'demo-setup': { exit: 3, meaning: 'The demo could not build its throwaway deployment.' },
} as const satisfies Record<string, CatalogueEntry>;

export type ErrorCode = keyof typeof errorCatalogue;

/** The exit code a given error code carries. */
export type ExitOf<C extends ErrorCode> = (typeof errorCatalogue)[C]['exit'];
