# Shared by scripts/demo and scripts/test: a virtualenv in .venv with the project installed.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
PYTHON=${PYTHON:-python3.11}
command -v "$PYTHON" >/dev/null 2>&1 || PYTHON=python3
if [ -z "${VIRTUAL_ENV:-}" ]; then
    [ -x .venv/bin/python ] || "$PYTHON" -m venv .venv
    # shellcheck disable=SC1091
    source .venv/bin/activate
fi
install_project() {  # $1: the extras, e.g. "[dev]"; pip's chatter goes to var/pip.log
    mkdir -p var
    if ! { python -m pip install --disable-pip-version-check --upgrade pip &&
           python -m pip install --disable-pip-version-check -c constraints.txt -e ".${1:-}"; } >var/pip.log 2>&1; then
        tail -n 40 var/pip.log
        echo "pip install failed; the whole log is in var/pip.log" >&2
        return 1
    fi
}
