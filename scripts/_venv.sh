# Sourced by scripts/demo and scripts/test: use the project's own virtual environment (.venv/,
# git-ignored), created on first use. A stock Debian/Ubuntu Python refuses global `pip install`
# (PEP 668, "externally managed"); a venv works on every Python. As root, Debian's python3-venv
# is installed when the venv module is missing.
VENV="${LAUNCHBOOK_VENV:-$PWD/.venv}"
if [ ! -x "$VENV/bin/python" ]; then
  if ! python3 -m venv "$VENV" >/dev/null 2>&1; then
    rm -rf "$VENV"
    if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
      apt-get update -qq
      DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends python3-venv >/dev/null
      python3 -m venv "$VENV"
    else
      echo "$(basename "$0"): cannot create a virtual environment in $VENV: install Debian's python3-venv first" >&2
      exit 1
    fi
  fi
  echo "$(basename "$0"): created the virtual environment $VENV (activate it with: . $VENV/bin/activate)" >&2
fi
export VIRTUAL_ENV="$VENV"
export PATH="$VENV/bin:$PATH"
PY="$VENV/bin/python"
