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

# Qt's xcb and offscreen platforms, a virtual X server, PortAudio for sounddevice, and PulseAudio
# with its ALSA plugin and pactl: the audio tests play into a private null sink (studio/testing/pulse.py),
# a real-time output on machines without a sound card.
DEBIAN_PACKAGES=(
  xvfb xauth libegl1 libgl1 libopengl0 libglib2.0-0 libfontconfig1 libdbus-1-3
  libxkbcommon0 libxkbcommon-x11-0 libxcb-cursor0 libxcb-icccm4 libxcb-keysyms1 libxcb-image0
  libxcb-render-util0 libxcb-shape0 libxcb-xinerama0 libxcb-randr0 libxcb-xfixes0 libxcb-xkb1
  libportaudio2
  pulseaudio pulseaudio-utils libasound2-plugins
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
  # nsgt 0.19 is source-only and its setup.py imports numpy without declaring it: build it in this
  # venv, after numpy and a setuptools that can, so that the project's own nsgt==0.19 is then met.
  if ! "$py" -c "import nsgt" 2>/dev/null; then
    "$py" -m pip install -q numpy "setuptools>=70.1"
    "$py" -m pip install -q --no-build-isolation "nsgt==0.19"
  fi
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
    # setup installed PulseAudio: the real-time audio tests must run, not skip (set 0 to let them skip)
    export LATENT_STUDIO_REQUIRE_AUDIO=${LATENT_STUDIO_REQUIRE_AUDIO:-1}
    exec "$VENV/bin/python" -m pytest "$@"
    ;;
  *) echo "usage: $0 {run|test|setup} [args...]" >&2; exit 2 ;;
esac
