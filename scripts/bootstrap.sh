#!/bin/sh
# Readies a checkout for `npm run demo` (and, with --test, for `npm test`): dependencies, the UI
# bundle and the browser the UI tests drive. InfluxDB and Redis are not installed here:
# scripts/services.ts installs them on first use, so only whoever runs them pays for them.
set -eu
cd "$(dirname "$0")/.."

for_tests=false
case "${1:-}" in
  --test) for_tests=true ;;
  '') ;;
  *)
    echo "usage: sh scripts/bootstrap.sh [--test]" >&2
    exit 2
    ;;
esac

say() { printf 'bootstrap: %s\n' "$*"; }

# npm writes node_modules/.package-lock.json on every install, so it dates the installed tree.
if [ ! -f node_modules/.package-lock.json ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
  say 'installing dependencies (npm install, at the versions package-lock.json pins)'
  # Not `npm ci`: npm 11 checks that the lockfile lists every platform's optional binaries
  # (rollup's), which a registry serving only this platform's cannot give it.
  npm install --no-audit --no-fund
else
  say 'dependencies up to date'
fi

# ui/dist/index.html is written last by vite, so it dates a finished build.
if [ ! -f ui/vite.config.ts ]; then
  say 'no ui/vite.config.ts yet; skipping the UI build'
elif [ ! -f ui/dist/index.html ] ||
  [ -n "$(find ui \( -path ui/dist -o -name node_modules \) -prune -o -type f -newer ui/dist/index.html -print | head -n 1)" ]; then
  say 'building the UI (vite build)'
  npx vite build --config ui/vite.config.ts
else
  say 'UI build up to date'
fi

if $for_tests; then
  if [ -x /usr/bin/chromium ]; then
    say 'chromium present'
  elif [ "$(id -u)" -eq 0 ]; then
    say "installing Debian's chromium (apt-get)"
    export DEBIAN_FRONTEND=noninteractive
    # Fresh containers have no package lists; fetch them only when the first try needs them.
    apt-get install -y chromium || { apt-get update && apt-get install -y chromium; }
  else
    echo "bootstrap: the tests need Debian's chromium at /usr/bin/chromium; install it with: sudo apt-get install -y chromium" >&2
    exit 1
  fi
fi
