#!/usr/bin/env bash
# The system tools the tests drive for real (no mocks): run by `npm test` before anything else.
# On Debian/Ubuntu it installs what is missing when it may (root, or sudo without a password),
# printing exactly what; otherwise it stops with the one apt-get line to run. A missing tool would
# otherwise make its tests skip, and a newcomer would "pass" without the real component ever running.
set -euo pipefail
export PATH="$PATH:/usr/sbin:/sbin"

have() { command -v "$1" >/dev/null 2>&1; }
# Debian keeps the PostgreSQL server binaries out of PATH, under their major version.
have_postgres() { have initdb || compgen -G '/usr/lib/postgresql/*/bin/initdb' >/dev/null; }

# One line per tool: the test for it, and the Debian/Ubuntu package that provides it.
need=()
have git || need+=(git)
have gpg || need+=(gnupg)
have nginx || need+=(nginx)
have htpasswd || need+=(apache2-utils)
have_postgres || need+=(postgresql)
have redis-server || need+=(redis-server)
have git-filter-repo || need+=(git-filter-repo)
have zip || need+=(zip)
have etcd || need+=(etcd-server)
have etcdctl || need+=(etcd-client)

[ ${#need[@]} -eq 0 ] && exit 0

if ! have apt-get; then
  echo "npm test: missing system tools (packages ${need[*]}) and no apt-get here to install them;" >&2
  echo "install them with your package manager, then run npm test again." >&2
  exit 1
fi

if [ "$(id -u)" -eq 0 ]; then
  as_root=()
elif have sudo && sudo -n true 2>/dev/null; then
  as_root=(sudo -n)
else
  echo "npm test: missing system tools; install them first (as root):" >&2
  echo "  sudo apt-get install -y ${need[*]}" >&2
  exit 1
fi
echo "npm test: installing with apt-get: ${need[*]}"
export DEBIAN_FRONTEND=noninteractive
"${as_root[@]}" apt-get update -qq
"${as_root[@]}" env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null
echo "npm test: installed: ${need[*]}"
