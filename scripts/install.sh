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

# Headless Chromium for the browser tests (Playwright drives /usr/bin/chromium; never
# `playwright install`, which downloads a browser).
if [ ! -x /usr/bin/chromium ]; then
    apt-get update
    apt-get install -y chromium
fi
