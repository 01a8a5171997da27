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

# Debian packages the tests use: PostgreSQL (the store's tests start it with
# scripts/start-postgres.sh) and Chromium (the pages are tested in it through Playwright,
# never `playwright install`, which would download a browser).
need_apt=()
command -v pg_ctlcluster >/dev/null 2>&1 || need_apt+=(postgresql)
[ -x /usr/bin/chromium ] || need_apt+=(chromium)
if [ "${#need_apt[@]}" -gt 0 ]; then
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${need_apt[@]}" >/dev/null
fi
