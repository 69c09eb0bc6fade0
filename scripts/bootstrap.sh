#!/usr/bin/env bash
# Install everything inkworm needs on a fresh Debian 12 machine, idempotently:
# apt packages (only those missing), the .venv with the package and its dev extras, and
# bytecode for the venv (imports are slow when PYTHONDONTWRITEBYTECODE is set).
set -euo pipefail
cd "$(dirname "$0")/.."

APT_PACKAGES=(
  python3 python3-venv python3-dev gcc libc6-dev pkg-config  # the venv; C builds
  libpango1.0-dev libcairo2-dev                              # manimpango, pycairo
  fonts-dejavu-core fontconfig                               # the renderer's text
  graphviz                                                   # neato layouts
  elixir                                                     # the real BEAM (pulls erlang-base)
  chromium                                                   # the deck test's real browser
)
missing=()
for pkg in "${APT_PACKAGES[@]}"; do
  dpkg -s "$pkg" >/dev/null 2>&1 || missing+=("$pkg")
done
if ((${#missing[@]})); then
  sudo=""
  [ "$(id -u)" = 0 ] || sudo="sudo"
  echo "bootstrap: installing apt packages: ${missing[*]}"
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends \
    "${missing[@]}" >/dev/null
fi

PYTHON=${PYTHON:-python3}
if [ ! -x .venv/bin/python ]; then
  echo "bootstrap: creating .venv"
  "$PYTHON" -m venv .venv
fi
.venv/bin/python -m pip install -q --disable-pip-version-check --upgrade pip >/dev/null
.venv/bin/python -m pip install -q --disable-pip-version-check -e '.[dev,render]'
.venv/bin/python -m compileall -q -j 0 .venv/lib >/dev/null 2>&1 || true
# ours too (an installed wheel's is compiled when installed; `make bench` compiles again)
.venv/bin/python -m compileall -q -j 0 src >/dev/null 2>&1 || true

# reveal.js for `inkworm slides` (no download at run time): from the npm registry, into the
# package (package data: a wheel built after this step carries it; not kept in git)
REVEAL_VERSION=6.0.1
REVEAL_DIR=src/inkworm/render/reveal
if [ ! -f "$REVEAL_DIR/dist/reveal.js" ] || ! grep -qs "\"version\": \"$REVEAL_VERSION\"" "$REVEAL_DIR/package.json"; then
  if ! command -v npm >/dev/null 2>&1; then
    sudo=""
    [ "$(id -u)" = 0 ] || sudo="sudo"
    $sudo apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends npm \
      >/dev/null
  fi
  pack=$(mktemp -d)
  (cd "$pack" && npm pack --silent "reveal.js@$REVEAL_VERSION" >/dev/null)
  rm -rf "$REVEAL_DIR"
  mkdir -p "$REVEAL_DIR"
  tar -xzf "$pack"/reveal.js-$REVEAL_VERSION.tgz -C "$REVEAL_DIR" --strip-components=1 \
    package/package.json package/LICENSE \
    package/dist/reveal.css package/dist/theme/black.css package/dist/plugin/highlight/zenburn.css \
    package/dist/reveal.js package/dist/plugin/notes.js package/dist/plugin/markdown.js
  rm -rf "$pack"
fi
echo "bootstrap: ready ($(.venv/bin/python --version), $(elixir --version 2>/dev/null | tail -1))"
