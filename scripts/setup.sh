#!/usr/bin/env bash
# Set attachguard up on this machine: Debian packages, a virtualenv in .venv, the package.
#   scripts/setup.sh          what the scanner and the attachment service need
#   scripts/setup.sh --test   also what the tests need (PostgreSQL, Chromium, dev tools)
# Safe to run again: it installs only what is missing.
set -euo pipefail
cd "$(dirname "$0")/.."

apt_packages=(clamav clamav-daemon clamav-freshclam clamav-testfiles jbig2dec)
extras=".[service,ocr]"
if [ "${1:-}" = "--test" ]; then
  apt_packages+=(postgresql chromium zip)
  extras=".[dev,nudity]"
fi

missing=()
for pkg in "${apt_packages[@]}"; do
  dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed" || missing+=("$pkg")
done
if [ ${#missing[@]} -gt 0 ]; then
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
    echo "==> installing Debian packages: ${missing[*]}"
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
  else
    echo "attachguard needs these Debian packages, which are missing: ${missing[*]}" >&2
    echo "install them with:  sudo apt-get install ${missing[*]}" >&2
    exit 1
  fi
fi

python=""
for candidate in python3.13 python3.12 python3.11 python3; do
  if command -v "$candidate" >/dev/null &&
     "$candidate" -c 'import sys; sys.exit(sys.version_info < (3, 11))' 2>/dev/null; then
    python=$candidate; break
  fi
done
[ -n "$python" ] || { echo "attachguard needs Python 3.11 or newer (python3.11)" >&2; exit 1; }

[ -x .venv/bin/python ] || "$python" -m venv .venv
stamp=".venv/.attachguard-$(cat pyproject.toml | sha256sum | cut -c1-16)-$(echo "$extras" | tr -c 'a-z' _)"
if [ ! -e "$stamp" ]; then
  echo "==> installing Python packages ($extras)"
  .venv/bin/python -m pip install -q --upgrade pip >/dev/null
  .venv/bin/python -m pip install -q -e "$extras"
  touch "$stamp"
fi
