# Sourced by scripts/serve-demo and scripts/test: make sure .venv exists with the project installed.
# Usage: ensure_venv ""   (runtime only)   |   ensure_venv "[test]"   (with the test tools)
# Reinstalls when pyproject.toml changed since the last install. Packages come from the
# package index pip is configured with (PyPI by default).

ensure_venv() {
    local extra="$1"
    local marker=".venv/.pecoma-installed${extra//[\[\]]/-}"
    if [ ! -x .venv/bin/python ]; then
        local python=""
        for candidate in python3.11 python3.12 python3.13 python3; do
            if command -v "$candidate" >/dev/null 2>&1 && "$candidate" -c 'import sys; sys.exit(sys.version_info < (3, 11))'; then
                python="$candidate"; break
            fi
        done
        if [ -z "$python" ]; then
            echo "error: Python 3.11 or newer is required (python3.11 not found)" >&2
            exit 1
        fi
        echo "Creating .venv with $python ..." >&2
        "$python" -m venv .venv
    fi
    if [ ! -f "$marker" ] || [ pyproject.toml -nt "$marker" ]; then
        echo "Installing the project into .venv (pip install -e .$extra) ..." >&2
        if ! { .venv/bin/python -m pip install --upgrade pip && .venv/bin/python -m pip install -e ".$extra"; } > .venv/pip-install.log 2>&1; then
            cat .venv/pip-install.log >&2
            echo "error: installing the project failed (log above, also in .venv/pip-install.log)" >&2
            exit 1
        fi
        touch "$marker"
    fi
}
