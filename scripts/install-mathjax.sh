#!/usr/bin/env bash
# Install MathJax 3 for the book: the site serves it from its own _static folder, so the maths
# renders offline and no page asks a CDN for anything. scripts/build_book.py copies the parts
# the pages use (the tex-mml-chtml component, its fonts and lazily loaded extensions).
#
# Why npm: the `mathjax` npm package is MathJax's own distribution, at the major version
# Sphinx 7 configures (3); no maintained pip package ships MathJax 3.
#
# Usage: scripts/install-mathjax.sh [PREFIX]   (default PREFIX: .venv/mathjax)
set -euo pipefail

VERSION=3.2.2
PREFIX=${1:-.venv/mathjax}

if [ -f "$PREFIX/node_modules/mathjax/package.json" ] \
   && grep -q "\"version\": \"$VERSION\"" "$PREFIX/node_modules/mathjax/package.json"; then
  exit 0
fi
if ! command -v npm >/dev/null; then
  echo "missing prerequisite: npm, to install MathJax $VERSION for the book (e.g. apt-get install npm)" >&2
  exit 1
fi
mkdir -p "$PREFIX"
npm install --silent --no-audit --no-fund --no-save --prefix "$PREFIX" "mathjax@$VERSION"
