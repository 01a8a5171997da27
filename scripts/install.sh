#!/usr/bin/env bash
# Installs activelab with everything its tests need, on a fresh Debian machine with Python >= 3.11.
#   bash scripts/install.sh          # the library, every extra and the test tools
# Safe to re-run: installed packages are kept.
set -euo pipefail
cd "$(dirname "$0")/.."

python3 -m pip install --upgrade --quiet pip
# The CPU build of PyTorch, pinned: an unpinned torch pulls a multi-GB CUDA build.
python3 -m pip install --quiet "torch==2.13.0"
python3 -m pip install --quiet -e ".[all,dev]"
# Headless Chromium for the labelling app's end-to-end test (driven by Playwright; never `playwright install`)
[ -x /usr/bin/chromium ] || { apt-get update && apt-get install -y chromium; }
