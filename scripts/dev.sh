#!/usr/bin/env bash
# Set up a fresh Debian/Ubuntu machine for latent-studio, then run the studio or its tests.
#   scripts/dev.sh run  [studio args...]   install, then launch the studio (under Xvfb if no display)
#   scripts/dev.sh test [pytest args...]   install, then run the test suite (Qt offscreen)
#   scripts/dev.sh setup                   install only
# Idempotent: a second call skips what is already there.
set -euo pipefail
cd "$(dirname "$0")/.."

VENV=${LATENT_STUDIO_VENV:-.venv}
# torch first, on its own: the project only asks for torch>=2.2, so a CUDA/ROCm torch you put in the
# venv yourself is kept. Override the spec for a fresh venv with TORCH_SPEC.
TORCH_SPEC=${TORCH_SPEC:-torch==2.13.0}

# Qt's xcb and offscreen platforms, a virtual X server, PortAudio for sounddevice.
DEBIAN_PACKAGES=(
  xvfb xauth libegl1 libgl1 libopengl0 libglib2.0-0 libfontconfig1 libdbus-1-3
  libxkbcommon0 libxkbcommon-x11-0 libxcb-cursor0 libxcb-icccm4 libxcb-keysyms1 libxcb-image0
  libxcb-render-util0 libxcb-shape0 libxcb-xinerama0 libxcb-randr0 libxcb-xfixes0 libxcb-xkb1
  libportaudio2
)

install_debian_packages() {
  command -v dpkg-query >/dev/null || { echo "not Debian-like: install the equivalents of: ${DEBIAN_PACKAGES[*]}"; return; }
  local missing=()
  for pkg in "${DEBIAN_PACKAGES[@]}"; do
    dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "ok installed" || missing+=("$pkg")
  done
  [ ${#missing[@]} -eq 0 ] && return
  local sudo=""
  [ "$(id -u)" -ne 0 ] && sudo="sudo"
  echo "installing Debian packages: ${missing[*]}"
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
}

install_python_packages() {
  [ -x "$VENV/bin/python" ] || python3 -m venv "$VENV"
  local py="$VENV/bin/python"
  "$py" -c "import torch" 2>/dev/null || "$py" -m pip install -q "$TORCH_SPEC"
  # Editable install: the bundled plugins register through the same entry points as third-party ones.
  "$py" -m pip install -q -e ".[test]"
}

setup() {
  install_debian_packages
  install_python_packages
}

cmd=${1:-run}
[ $# -gt 0 ] && shift
case "$cmd" in
  setup) setup ;;
  run)
    setup
    if [ -z "${DISPLAY:-}${WAYLAND_DISPLAY:-}" ] && [ -z "${QT_QPA_PLATFORM:-}" ]; then
      echo "no display: running the studio on a virtual X server (xvfb-run)"
      exec xvfb-run -a -s "-screen 0 1600x1000x24" "$VENV/bin/latent-studio" "$@"
    fi
    exec "$VENV/bin/latent-studio" "$@"
    ;;
  test)
    setup
    export QT_QPA_PLATFORM=offscreen
    exec "$VENV/bin/python" -m pytest "$@"
    ;;
  *) echo "usage: $0 {run|test|setup} [args...]" >&2; exit 2 ;;
esac
