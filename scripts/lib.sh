# Shared by scripts/run and scripts/test: install what is missing, on Debian/Ubuntu.

log() { printf '\033[1m==> %s\033[0m\n' "$*" >&2; }

as_root() {
  if [ "$(id -u)" = 0 ]; then "$@"; elif command -v sudo >/dev/null; then sudo "$@"; else
    log "need root to run: $*"; return 1; fi
}

apt_install() {
  log "installing $*"
  if [ -z "${PB_APT_UPDATED:-}" ]; then as_root apt-get update -qq; PB_APT_UPDATED=1; fi
  DEBIAN_FRONTEND=noninteractive as_root apt-get install -y -qq --no-install-recommends "$@" >/dev/null
}

# Prints the directory with initdb and postgres, installing PostgreSQL if needed.
postgres_bindir() {
  local dir
  for dir in "${PULSEBOARD_POSTGRES_BIN_DIR:-}" $(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V -r); do
    if [ -n "$dir" ] && [ -x "$dir/initdb" ] && [ -x "$dir/postgres" ]; then echo "$dir"; return; fi
  done
  if command -v initdb >/dev/null && command -v postgres >/dev/null; then dirname "$(command -v initdb)"; return; fi
  apt_install postgresql >&2
  ls -d /usr/lib/postgresql/*/bin | sort -V -r | head -n1
}

ensure_rust() {
  if ! command -v cargo >/dev/null; then
    log "cargo is required (https://rustup.rs)"; return 1
  fi
}

# Python with aiosmtpd, the real SMTP server of the mail tests. Exports
# PULSEBOARD_TEST_PYTHON: python3 itself when it has aiosmtpd (or pip can add it),
# else a virtualenv under target/.
ensure_test_python() {
  if ! command -v python3 >/dev/null; then apt_install python3 python3-venv; fi
  if python3 -c 'import aiosmtpd' 2>/dev/null; then export PULSEBOARD_TEST_PYTHON=python3; return; fi
  log "installing aiosmtpd for the mail tests"
  if python3 -m pip install --quiet aiosmtpd 2>/dev/null && python3 -c 'import aiosmtpd' 2>/dev/null; then
    export PULSEBOARD_TEST_PYTHON=python3; return
  fi
  # A Python that refuses global installs (PEP 668): a virtualenv of our own.
  local venv="$PWD/target/test-python"
  python3 -m venv "$venv" 2>/dev/null || { apt_install python3-venv; python3 -m venv "$venv"; }
  "$venv/bin/python" -m pip install --quiet aiosmtpd
  export PULSEBOARD_TEST_PYTHON="$venv/bin/python"
}

# A private PostgreSQL cluster on a free loopback port, fast and disposable (no fsync).
# Sets pg_root (its directory) and pg_port; stop_throwaway_postgres removes it.
start_throwaway_postgres() { # BINDIR
  pg_bindir=$1
  pg_root=$(mktemp -d /tmp/pulseboard-test-pg.XXXXXX)
  chmod 755 "$pg_root"
  if [ "$(id -u)" = 0 ]; then chown postgres "$pg_root"; fi
  pg_port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
  log "starting a throwaway PostgreSQL on 127.0.0.1:$pg_port"
  run_as_postgres "$pg_bindir/initdb" -D "$pg_root/data" -U postgres --auth=trust -E UTF8 --locale=C >/dev/null
  run_as_postgres "$pg_bindir/pg_ctl" -D "$pg_root/data" -l "$pg_root/log" -w -o \
    "-c listen_addresses=127.0.0.1 -p $pg_port -k $pg_root -c fsync=off -c synchronous_commit=off -c full_page_writes=off -c max_connections=300" \
    start >/dev/null
}

stop_throwaway_postgres() {
  run_as_postgres "$pg_bindir/pg_ctl" -D "$pg_root/data" -m immediate stop >/dev/null 2>&1 || true
  rm -rf "$pg_root"
}

# PostgreSQL's tools refuse to run as root.
run_as_postgres() { if [ "$(id -u)" = 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi; }
