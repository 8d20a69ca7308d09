#!/usr/bin/env bash
# Create .venv with Python >= 3.12 and install Problembild with its development tools.
set -euo pipefail
cd "$(dirname "$0")/.."
# The Debian libraries Problembild needs at run time (Pango for PDFs); the test tools come with `make test`.
PROBLEMBILD_RUNTIME_ONLY=1 scripts/system-deps.sh
PYTHON=${PYTHON:-$(scripts/find-python)}
if [ ! -x .venv/bin/python ] || ! .venv/bin/python -c 'import sys; sys.exit(0 if sys.version_info >= (3, 12) else 1)'; then
  rm -rf .venv
  "$PYTHON" -m venv .venv
fi
.venv/bin/python -m pip install --quiet --upgrade pip 2>&1 | grep -v "^WARNING: Location" || true
.venv/bin/python -m pip install --quiet -e ".[dev]" 2>&1 | grep -v "^WARNING: Location" || true
.venv/bin/python -c "import problembild, django; print('Installed problembild', problembild.__version__, 'with Django', django.get_version())"
touch .venv/.installed
