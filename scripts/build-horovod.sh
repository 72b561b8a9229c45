#!/usr/bin/env bash
# Build (once) and install Horovod 0.28.1 with PyTorch and Gloo into the given Python's environment.
#
# Why a script: Horovod has had no release since 0.28.1, and that sdist does not build against
# torch 2.x as published (it asks for C++14; torch 2.x headers need C++17). We patch the two
# CMAKE_CXX_STANDARD lines, build without isolation against the installed torch, and cache the
# wheel outside the repository, keyed by the Horovod, torch and Python versions, so that later
# set-ups install it in seconds.
#
# Usage: scripts/build-horovod.sh PYTHON   (LABKIT_BUILD_JOBS=N: compile jobs, default nproc)
set -euo pipefail

PY=${1:?usage: build-horovod.sh PYTHON}
HVD_VERSION=0.28.1
TORCH_VERSION=$("$PY" -c 'import torch; print(torch.__version__.split("+")[0])')
PY_TAG=$("$PY" -c 'import sys; print(f"cp{sys.version_info[0]}{sys.version_info[1]}")')
CACHE_ROOT=${LABKIT_WHEEL_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/labkit/wheels}
CACHE="$CACHE_ROOT/horovod-$HVD_VERSION-torch$TORCH_VERSION-$PY_TAG"

if "$PY" -c "import horovod.torch" 2>/dev/null \
   && [ "$("$PY" -c 'import horovod; print(horovod.__version__)')" = "$HVD_VERSION" ]; then
  exit 0
fi

wheel=$(ls "$CACHE"/horovod-*.whl 2>/dev/null | head -n 1 || true)
if [ -z "$wheel" ]; then
  echo "Building Horovod $HVD_VERSION against torch $TORCH_VERSION (about 5 minutes on 2 cores; cached afterwards in $CACHE)"
  work=$(mktemp -d)
  trap 'rm -rf "$work"' EXIT
  "$PY" -m pip download -q --no-deps --no-binary :all: -d "$work" "horovod==$HVD_VERSION"
  tar -xzf "$work/horovod-$HVD_VERSION.tar.gz" -C "$work"
  src="$work/horovod-$HVD_VERSION"
  sed -i 's/set(CMAKE_CXX_STANDARD 14)/set(CMAKE_CXX_STANDARD 17)/' \
    "$src/CMakeLists.txt" "$src/horovod/torch/CMakeLists.txt"
  grep -q 'CMAKE_CXX_STANDARD 17' "$src/horovod/torch/CMakeLists.txt"
  export CMAKE_POLICY_VERSION_MINIMUM=3.5 \
    HOROVOD_WITH_PYTORCH=1 HOROVOD_WITH_GLOO=1 HOROVOD_WITHOUT_MPI=1 \
    HOROVOD_WITHOUT_TENSORFLOW=1 HOROVOD_WITHOUT_MXNET=1 \
    MAKEFLAGS=-j"${LABKIT_BUILD_JOBS:-$(nproc)}"
  "$PY" -m pip wheel -q --no-deps --no-build-isolation -w "$work/dist" "$src"
  mkdir -p "$CACHE"
  tmp=$(mktemp -d "$CACHE/.tmp.XXXXXX")
  cp "$work"/dist/horovod-*.whl "$tmp/"
  mv "$tmp"/horovod-*.whl "$CACHE/"   # same filesystem: the wheel appears whole or not at all
  rmdir "$tmp"
  wheel=$(ls "$CACHE"/horovod-*.whl | head -n 1)
fi
# horovod[spark] would pin pyarrow<11; install the plain wheel and the few runtime needs it names.
"$PY" -m pip install -q --no-deps "$wheel"
"$PY" -m pip install -q cloudpickle psutil pyyaml packaging
