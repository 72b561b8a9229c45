#!/usr/bin/env bash
# Before anything is installed: check what pip cannot install, and say in one line what is missing.
set -u
PYTHON=${1:-python3.11}
status=0
need() { echo "missing prerequisite: $1" >&2; status=1; }

if ! command -v "$PYTHON" >/dev/null 2>&1; then
  need "Python 3.11 ('$PYTHON' not found; install python3.11 or run make PYTHON=/path/to/python3.11)"
elif ! "$PYTHON" -c 'import sys; raise SystemExit(sys.version_info[:2] != (3, 11))'; then
  need "Python 3.11 ('$PYTHON' is $("$PYTHON" -V 2>&1); run make PYTHON=/path/to/python3.11)"
fi
if ! command -v java >/dev/null 2>&1; then
  need "Java 17 or newer for Spark (e.g. apt-get install openjdk-17-jre-headless, or conda install openjdk=17)"
else
  major=$(java -version 2>&1 | sed -n 's/.*version "\([0-9]*\).*/\1/p' | head -n 1)
  if [ -z "$major" ] || [ "$major" -lt 17 ]; then
    need "Java 17 or newer for Spark (found: $(java -version 2>&1 | head -n 1))"
  fi
fi
command -v c++ >/dev/null 2>&1 || command -v g++ >/dev/null 2>&1 \
  || need "a C++ compiler to build Horovod (e.g. apt-get install g++)"
command -v cmake >/dev/null 2>&1 || need "cmake to build Horovod (e.g. apt-get install cmake)"
command -v npm >/dev/null 2>&1 || need "npm to install MathJax, which the site serves itself (e.g. apt-get install npm)"
exit $status
