#!/usr/bin/env bash
# Lint and type checks (the layer rules run inside the test suite, tests/project/test_layers.py):
# ruff (lint and format) over the whole tree, no module over 600 lines without a reason on its first
# line (scripts/long_modules.py), then mypy over the whole package as it is installed
# (scripts/package_layout.py).
set -euo pipefail
cd "$(dirname "$0")/.."
.venv/bin/ruff check .
.venv/bin/ruff format --check .
.venv/bin/python scripts/long_modules.py
.venv/bin/python scripts/package_layout.py build/layout
.venv/bin/mypy -p prefc
