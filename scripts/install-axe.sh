#!/usr/bin/env bash
# Install axe-core, the accessibility engine tests/test_site.py runs in Chromium on every page of
# both editions (WCAG 2 A and AA rules). The tests read axe.min.js from PREFIX and inject it into
# each page; nothing of it is served with the site.
#
# Why npm: axe-core is Deque's own JavaScript distribution; no maintained pip package ships a
# current axe-core for selenium.
#
# Usage: scripts/install-axe.sh [PREFIX]   (default PREFIX: .venv/axe-core)
set -euo pipefail

VERSION=4.14.1
PREFIX=${1:-.venv/axe-core}

if [ -f "$PREFIX/node_modules/axe-core/package.json" ] \
   && grep -q "\"version\": \"$VERSION\"" "$PREFIX/node_modules/axe-core/package.json"; then
  exit 0
fi
if ! command -v npm >/dev/null; then
  echo "missing prerequisite: npm, to install axe-core $VERSION for the browser tests (e.g. apt-get install npm)" >&2
  exit 1
fi
mkdir -p "$PREFIX"
npm install --silent --no-audit --no-fund --no-save --prefix "$PREFIX" "axe-core@$VERSION"
