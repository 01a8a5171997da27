#!/usr/bin/env bash
# Installs Label Studio from PyPI into its own virtual environment, apart from activelab's,
# because it pins many packages (Django, pydantic, ...) that would clash with ours.
#   bash scripts/install-label-studio.sh            # into /opt/ls-venv
#   LS_VENV=/somewhere bash scripts/install-label-studio.sh
# Safe to re-run: an existing, working install is kept.
set -euo pipefail
LS_VENV="${LS_VENV:-/opt/ls-venv}"
LS_VERSION="${LS_VERSION:-1.23.2}"

if [ -x "$LS_VENV/bin/label-studio" ] \
    && "$LS_VENV/bin/python" -c "import label_studio" >/dev/null 2>&1; then
    exit 0
fi
if ! python3 -m venv "$LS_VENV"; then  # Debian keeps venv in its own package
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq python3-venv >/dev/null
    rm -rf "$LS_VENV"
    python3 -m venv "$LS_VENV"
fi
"$LS_VENV/bin/python" -m pip install --upgrade --quiet pip
"$LS_VENV/bin/python" -m pip install --quiet "label-studio==$LS_VERSION"
"$LS_VENV/bin/python" -c "import label_studio; print('label-studio', label_studio.__version__)"
