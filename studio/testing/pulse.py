"""A real-time audio output for tests on machines without a sound card: a private PulseAudio
daemon with a null sink.

Why PulseAudio: without a card PortAudio lists no output at all, and ALSA's ``null`` device calls
the stream callback as fast as the CPU allows, so nothing about timing can be tested against it.
PulseAudio's null sink consumes audio at the real sample rate (after a start-up gap of up to ~2 s),
and the ALSA ``pulse`` plugin (Debian: ``pulseaudio`` + ``libasound2-plugins``) makes it
PortAudio's default output.

The daemon runs from a temporary folder (runtime dir, HOME, state), so the real ``/root`` or
``~/.config/pulse`` and ``/etc`` are not touched; the test process is pointed at it with
``PULSE_SERVER``, a private client.conf (no autospawn) and an extra ALSA config file that makes
the ``default`` PCM the pulse plugin. Use the session fixture::

    def test_plays(pulse_null_sink):            # skips when pulseaudio is not installed,
        ...                                     # fails instead if LATENT_STUDIO_REQUIRE_AUDIO=1

or, outside pytest, ``with null_sink_server() as server: ...``.
"""

from __future__ import annotations

import contextlib
import importlib
import os
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

REQUIRE_AUDIO_ENV = "LATENT_STUDIO_REQUIRE_AUDIO"
SINK_NAME = "latent_studio_null"
START_TIMEOUT = 15.0  # seconds for the daemon to answer; it takes ~0.2 s on an idle machine
ALSA_TOP_CONFIG = Path("/usr/share/alsa/alsa.conf")  # what ALSA_CONFIG_PATH replaces; we add to it


class AudioServerUnavailable(RuntimeError):
    """PulseAudio (or PortAudio) is not installed here."""


@dataclass(frozen=True)
class PulseServer:
    """The running daemon: where it listens, its sink, its log (for failure messages)."""

    server: str  # e.g. "unix:/tmp/latent-pulse-xyz/run/native"
    sink: str
    folder: Path
    log_path: Path
    start_seconds: float  # from launch until it answered

    def log_tail(self, lines: int = 20) -> str:
        with contextlib.suppress(OSError):
            return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-lines:])
        return ""


def _write_configs(folder: Path, socket: Path) -> dict[str, str]:
    """Client and ALSA config files in ``folder``; returns the environment that selects them."""
    client_conf = folder / "client.conf"
    # autospawn = no: if our daemon dies, libpulse must not start a user daemon of its own.
    client_conf.write_text(
        f"default-server = unix:{socket}\nautospawn = no\ncookie-file = {folder / 'config' / 'pulse' / 'cookie'}\n"
    )
    env = {
        "PULSE_SERVER": f"unix:{socket}",
        "PULSE_CLIENTCONFIG": str(client_conf),
        # Else libpulse in this process makes ~/.config/pulse/<machine-id>-runtime and a /tmp/pulse-* dir.
        "PULSE_RUNTIME_PATH": str(socket.parent),
    }
    if ALSA_TOP_CONFIG.exists():
        # Debian's /etc/alsa/conf.d/99-pulse.conf already routes "default" to pulse when a server
        # answers, but only there; naming it ourselves also works elsewhere and never lets a test
        # play through a real card. ALSA reads the ':'-separated files in order; ours overrides.
        asound = folder / "asound.conf"
        asound.write_text(
            "pcm.!default {\n  type pulse\n  device " + SINK_NAME + "\n}\nctl.!default {\n  type pulse\n}\n"
        )
        env["ALSA_CONFIG_PATH"] = f"{ALSA_TOP_CONFIG}:{asound}"
    return env


def _daemon_command(socket: Path) -> list[str]:
    return [
        "pulseaudio",
        "-n",  # no default.pa: just the two modules below
        "--daemonize=no",
        "--system=false",  # a per-user daemon, even as root (it warns, and runs)
        "--exit-idle-time=-1",  # stay up between tests
        "--disallow-exit=yes",
        "--use-pid-file=no",
        # A test daemon on a shared machine asks for no real-time priority.
        "--realtime=no",
        "--high-priority=no",
        "--log-target=stderr",
        f"--load=module-null-sink sink_name={SINK_NAME}",
        f"--load=module-native-protocol-unix auth-anonymous=1 socket={socket}",
    ]


def _wait_until_answering(process: subprocess.Popen, env: dict[str, str], log_path: Path) -> None:
    """Poll ``pactl info`` until the daemon names our sink as default; no fixed sleeps."""
    deadline = time.monotonic() + START_TIMEOUT
    while True:
        if process.poll() is not None:
            raise RuntimeError(
                f"pulseaudio exited with {process.returncode}:\n{log_path.read_text(errors='replace')}"
            )
        probe = subprocess.run(["pactl", "info"], env=env, capture_output=True, text=True, timeout=10)
        if probe.returncode == 0 and f"Default Sink: {SINK_NAME}" in probe.stdout:
            return
        if time.monotonic() > deadline:
            raise RuntimeError(
                f"pulseaudio did not answer within {START_TIMEOUT:.0f} s; pactl said {probe.stderr.strip()!r};"
                f" log:\n{log_path.read_text(errors='replace')}"
            )
        time.sleep(0.05)  # a poll interval, not a timing assumption


def rescan_portaudio() -> None:
    """Make PortAudio list devices afresh (it scans once, when sounddevice is imported)."""
    sd = sys.modules.get("sounddevice")
    if sd is not None:
        sd._terminate()  # closes any open stream
        sd._initialize()


def _import_sounddevice_here() -> None:
    """Import sounddevice with the environment already pointing at our daemon (its first scan then
    finds it, and libpulse never looks for a server under the real HOME), or rescan if imported."""
    if "sounddevice" in sys.modules:
        rescan_portaudio()
        return
    try:
        importlib.import_module("sounddevice")
    except OSError as exc:  # libportaudio missing
        raise AudioServerUnavailable(f"PortAudio is not available: {exc}") from exc


@contextlib.contextmanager
def null_sink_server() -> Iterator[PulseServer]:
    """Run a private PulseAudio daemon with a null sink and point this process's audio at it.

    Raises :class:`AudioServerUnavailable` when pulseaudio/pactl/PortAudio are not installed and
    RuntimeError when the daemon does not come up. Restores the environment and PortAudio's
    device list and stops the daemon on exit.
    """
    missing = [tool for tool in ("pulseaudio", "pactl") if shutil.which(tool) is None]
    if missing:
        raise AudioServerUnavailable(
            f"{' and '.join(missing)} not installed (Debian: apt-get install pulseaudio libasound2-plugins)"
        )
    folder = Path(tempfile.mkdtemp(prefix="latent-pulse-"))  # short: a socket path has a 108-byte limit
    for sub in ("run", "home", "state", "config"):
        (folder / sub).mkdir()
    socket = folder / "run" / "native"
    client_env = _write_configs(folder, socket)
    daemon_env = {
        **os.environ,
        **client_env,
        "HOME": str(folder / "home"),
        "XDG_RUNTIME_DIR": str(folder / "run"),
        "XDG_CONFIG_HOME": str(folder / "config"),
        "PULSE_STATE_PATH": str(folder / "state"),
    }
    daemon_env.pop("DISPLAY", None)  # no X11 modules, no X11 cookie lookups
    log_path = folder / "pulseaudio.log"
    saved = {name: os.environ.get(name) for name in client_env}
    started = time.monotonic()
    with open(log_path, "wb") as log:
        process = subprocess.Popen(
            _daemon_command(socket), env=daemon_env, stdin=subprocess.DEVNULL, stdout=log, stderr=log
        )
    try:
        _wait_until_answering(process, daemon_env, log_path)
        server = PulseServer(f"unix:{socket}", SINK_NAME, folder, log_path, time.monotonic() - started)
        os.environ.update(client_env)
        _import_sounddevice_here()
        yield server
    finally:
        sd = sys.modules.get("sounddevice")
        if sd is not None:
            sd._terminate()  # closes streams still open
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
        if sd is not None:
            # Rescan while the environment still points here: the pulse device is gone from the
            # list, and libpulse does not go looking for a server under the real HOME.
            sd._initialize()
        for name, value in saved.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value
        shutil.rmtree(folder, ignore_errors=True)


def _unavailable(reason: str) -> None:
    """Skip, or fail where the environment says audio tests must run (CI)."""
    if os.environ.get(REQUIRE_AUDIO_ENV) == "1":
        pytest.fail(f"{reason}; {REQUIRE_AUDIO_ENV}=1 requires a working audio output", pytrace=False)
    pytest.skip(reason)


@pytest.fixture(scope="session")
def pulse_null_sink() -> Iterator[PulseServer]:
    """A real-time audio output for the whole session (a PulseAudio null sink), PortAudio's default.

    Skips when PulseAudio or PortAudio is not installed, unless LATENT_STUDIO_REQUIRE_AUDIO=1."""
    with contextlib.ExitStack() as stack:
        try:
            server = stack.enter_context(null_sink_server())
        except AudioServerUnavailable as exc:
            server, reason = None, str(exc)
        if server is None:  # outside the except block: a plain skip/fail, no chained traceback
            _unavailable(reason)
        yield server
