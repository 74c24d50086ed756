#!/usr/bin/env bash
# The main job: installs dependencies, builds, and runs the whole pipeline on MovieLens.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh
BUILD_DIR=${BUILD_DIR:-build}
"$BUILD_DIR/bin/recsys" quickstart "$@"
