#!/usr/bin/env bash
# Makes sure this machine has what `make run` / `make test` need, installing what it can.
#
#   scripts/ensure-deps.sh run    Rust 1.89+, Node.js 20+ with npm, libpq (for diesel)
#   scripts/ensure-deps.sh test   the same, plus Debian's Chromium (/usr/bin/chromium), psql, fonts-liberation
#
# Missing system packages are installed with apt-get when this runs as root (or with password-less sudo) on
# Debian/Ubuntu; otherwise the script prints ONE line saying what to install and exits 1. It never downloads
# a browser. ENSURE_DEPS_INSTALL=0 only checks. CARGO_FEATURES containing `bundled-libpq` builds libpq from
# source (pq-sys's bundled_without_openssl), so no system libpq is needed.
set -euo pipefail
MODE=${1:-test}
case "$MODE" in run | test) ;; *) echo "usage: $0 run|test" >&2; exit 2 ;; esac

CHROMIUM=/usr/bin/chromium
MIN_RUST=89 # 1.89
MIN_NODE=20

missing_apt=()  # Debian packages to install
manual=()       # what apt-get cannot provide, as advice
optional_apt=() # installed when we can, never a reason to fail

have() { command -v "$1" >/dev/null 2>&1; }

rust_ok() {
  have "${CARGO:-cargo}" || return 1
  local minor
  minor=$(rustc --version 2>/dev/null | sed -nE 's/^rustc 1\.([0-9]+).*/\1/p')
  [ -n "$minor" ] && [ "$minor" -ge "$MIN_RUST" ]
}

node_major() { node --version 2>/dev/null | sed -nE 's/^v([0-9]+).*/\1/p'; }

# The version apt-get would install, e.g. "20.20.2-1nodesource1" or "18.20.4+dfsg-1~deb12u2".
apt_candidate() { apt-cache policy "$1" 2>/dev/null | sed -nE 's/^ *Candidate: *(\(none\))?//p' | head -1; }

libpq_ok() {
  case " ${CARGO_FEATURES:-} " in *bundled-libpq*) return 0 ;; esac
  if have pkg-config && pkg-config --exists libpq 2>/dev/null; then return 0; fi
  if have pg_config && [ -e "$(pg_config --libdir 2>/dev/null)/libpq.so" ]; then return 0; fi
  ldconfig -p 2>/dev/null | grep -qE '^[[:space:]]*libpq\.so[[:space:]]'
}

fonts_ok() {
  compgen -G '/usr/share/fonts/truetype/liberation*/*.ttf' >/dev/null ||
    compgen -G '/usr/share/fonts/liberation*/*.ttf' >/dev/null
}

check() {
  missing_apt=()
  manual=()
  optional_apt=()
  rust_ok || manual+=("Rust 1.${MIN_RUST}+ with cargo (https://rustup.rs)")
  local major
  major=$(node_major)
  if [ -z "$major" ] || [ "$major" -lt "$MIN_NODE" ]; then
    local candidate
    candidate=$(apt_candidate nodejs)
    candidate=${candidate#*:}
    if [ -n "$candidate" ] && [ "${candidate%%.*}" -ge "$MIN_NODE" ] 2>/dev/null; then
      missing_apt+=(nodejs)
    else
      manual+=("Node.js ${MIN_NODE}+ (found: ${major:-none}; Debian 12 ships 18: use https://nodejs.org or NodeSource)")
    fi
  fi
  if [ -n "$major" ] && [ "$major" -ge "$MIN_NODE" ] && ! have npm; then missing_apt+=(npm); fi
  libpq_ok || missing_apt+=(libpq-dev)
  if [ "$MODE" = test ]; then
    [ -x "$CHROMIUM" ] || missing_apt+=(chromium)
    have psql || missing_apt+=(postgresql-client)
    fonts_ok || optional_apt+=(fonts-liberation)
  fi
}

can_install() {
  [ "${ENSURE_DEPS_INSTALL:-1}" != 0 ] && have apt-get || return 1
  [ "$(id -u)" = 0 ] && return 0
  have sudo && sudo -n true 2>/dev/null
}

apt_install() {
  local sudo=()
  [ "$(id -u)" = 0 ] || sudo=(sudo -n)
  echo "deps: installing $* (apt-get)" >&2
  export DEBIAN_FRONTEND=noninteractive
  "${sudo[@]}" apt-get update -qq >&2
  "${sudo[@]}" apt-get install -y -qq --no-install-recommends "$@" >/dev/null
}

check
if [ ${#missing_apt[@]} -gt 0 ] || [ ${#optional_apt[@]} -gt 0 ]; then
  if can_install; then
    apt_install "${missing_apt[@]}" "${optional_apt[@]}" || echo "deps: apt-get failed" >&2
    check
  fi
fi

if [ ${#missing_apt[@]} -eq 0 ] && [ ${#manual[@]} -eq 0 ]; then
  [ ${#optional_apt[@]} -eq 0 ] ||
    echo "deps: optional: apt-get install ${optional_apt[*]} (fonts for the browser screenshots)" >&2
  exit 0
fi

# One line: what to install, and how.
advice=()
if [ ${#missing_apt[@]} -gt 0 ]; then
  pkgs="${missing_apt[*]} ${optional_apt[*]}"
  advice+=("sudo apt-get install -y --no-install-recommends ${pkgs% }")
fi
advice+=("${manual[@]}")
hint=""
case " ${missing_apt[*]} " in *" libpq-dev "*) hint=" (or build libpq from source: CARGO_FEATURES=bundled-libpq)" ;; esac
joined=$(printf '%s; ' "${advice[@]}")
echo "deps: make $MODE needs: ${joined%; }${hint}, then run it again" >&2
exit 1
