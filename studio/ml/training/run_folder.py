"""The reading side of the run folder (docs/run-folder.md): what a reader needs to follow a run that
another process writes, on a local disk or a mounted share.

Qt-free and torch-free at import: torch is imported only to read a checkpoint's metadata, PIL and
numpy only to decode a sample grid. Every function here reads files, and a read on a slow share
may block: the studio calls them from its run follower's thread (studio.runtime.run_follower),
never from the UI thread.

On NFS a client caches file attributes for a few seconds; opening a file revalidates them
(close-to-open consistency), so the stamps and the log tail below open the file and ``fstat`` it
instead of calling ``stat`` on its name.
"""

from __future__ import annotations

import json
import math
import os
import re
from collections import deque
from dataclasses import dataclass, field
from pathlib import Path

# The names of docs/run-folder.md, for the reader here and the writer (studio.ml.training.run).
RUN_FORMAT = "latent-studio-run/1"
RUN_INFO_NAME = "run.json"
METRICS_NAME = "metrics.jsonl"
SAMPLES_DIR = "samples"
CHECKPOINT_NAME = "last.safetensors"
RUN_STATUSES = ("running", "finished", "stopped", "diverged", "failed")

MAX_RUN_INFO_BYTES = 16 * 2**20  # a run.json is a few kB; a huge one is not a run description
MAX_LINE_BYTES = 2**20  # a "line" longer than this is garbage: dropped up to its newline
READ_BYTES = 2**18  # per poll of a log: ~2500 records, a batch the monitor's plot takes in ~20 ms
GRID_NAME = re.compile(r"step_(\d+)\.png")


class RunFolderError(ValueError):
    """A file of a run folder cannot be used; the message names the file and says why."""


def is_run_folder(path: Path | str) -> bool:
    """Whether ``path`` is a folder with a run.json, a metrics.jsonl or a last.safetensors."""
    path = Path(path)
    try:
        return path.is_dir() and any((path / name).is_file() for name in (RUN_INFO_NAME, METRICS_NAME,
                                                                            CHECKPOINT_NAME))
    except OSError:
        return False


def file_stamp(path: Path | str) -> tuple[int, int, int] | None:
    """(inode, mtime_ns, size) of ``path``, None if there is no such file: a new value means the file
    was replaced or changed. The inode tells apart two checkpoints renamed into place within the
    file system's timestamp resolution."""
    try:
        with open(path, "rb") as f:  # open, not stat: on NFS it revalidates the cached attributes
            st = os.fstat(f.fileno())
    except (FileNotFoundError, NotADirectoryError, IsADirectoryError):
        return None
    return st.st_ino, st.st_mtime_ns, st.st_size


# -- run.json ---------------------------------------------------------------------------------------
def read_run_info(folder: Path | str) -> dict | None:
    """``folder``'s run.json as a dict, None if it has none. RunFolderError (naming the file) if it
    cannot be read, is not JSON, or is not a run description of a format this version reads."""
    path = Path(folder) / RUN_INFO_NAME
    try:
        with open(path, "rb") as f:
            raw = f.read(MAX_RUN_INFO_BYTES + 1)
    except (FileNotFoundError, NotADirectoryError):
        return None
    except OSError as exc:
        raise RunFolderError(f"cannot read {path}: {exc.strerror or exc}") from exc
    if len(raw) > MAX_RUN_INFO_BYTES:
        raise RunFolderError(f"{path} is over {MAX_RUN_INFO_BYTES // 2**20} MiB: not a run description")
    return parse_run_info(raw, path)


def parse_run_info(raw: bytes, path: Path | str) -> dict:
    """The run description in ``raw`` (the bytes of ``path``), checked as ``read_run_info`` says."""
    try:
        info = json.loads(raw.decode("utf-8"))
    except (UnicodeDecodeError, ValueError) as exc:
        raise RunFolderError(f"{path} is not valid JSON ({exc})") from exc
    if not isinstance(info, dict):
        raise RunFolderError(f"{path} is not a run description: a JSON {type(info).__name__}, not an object")
    found = info.get("format")
    if found != RUN_FORMAT:
        if isinstance(found, str) and found.startswith(RUN_FORMAT.rsplit("/", 1)[0] + "/"):
            raise RunFolderError(f"{path} is in format {found!r}, which this version of latent-studio cannot "
                                 f"read (it reads {RUN_FORMAT!r})")
        raise RunFolderError(f"{path} is not a latent-studio run description (format {found!r}, expected "
                             f"{RUN_FORMAT!r})")
    _check_description(info, path)
    return info


def _check_description(info: dict, path: Path | str) -> None:
    wrong = [f"{key!r} is not a {kind.__name__}" for key, kind in (("kind", str), ("config", dict), ("dataset", dict))
             if not isinstance(info.get(key), kind)]
    if wrong:
        raise RunFolderError(f"{path} is damaged: {'; '.join(wrong)}")


def info_from_checkpoint_meta(meta: dict, path: Path | str) -> dict:
    """A run description from a checkpoint's metadata, for run folders written before run.json:
    kind, config, dataset and step; the schedule, the processes and the status are unknown (None).
    ``"source"`` says where it came from."""
    info = {"format": None, "source": "checkpoint", "kind": meta.get("kind"), "config": meta.get("config"),
            "dataset": meta.get("dataset"), "step": meta.get("step"), "total_steps": None, "status": None}
    _check_description(info, path)
    return info


def read_checkpoint_meta(path: Path | str) -> dict:
    """A checkpoint's metadata (``studio.ml.checkpoints.read_checkpoint_meta``, which imports torch
    when first used), a CheckpointError or OSError as a RunFolderError naming the file."""
    from studio.ml.checkpoints import CheckpointError, read_checkpoint_meta as read_meta

    try:
        return read_meta(path)
    except CheckpointError as exc:
        raise RunFolderError(str(exc)) from exc  # its message names the file
    except OSError as exc:
        raise RunFolderError(f"cannot read {path}: {exc.strerror or exc}") from exc


# -- metrics.jsonl ----------------------------------------------------------------------------------
@dataclass
class TailRead:
    """What one ``MetricsTail.poll`` found."""

    records: list[dict] = field(default_factory=list)  # the new complete records, in file order
    reset: bool = False  # the log was replaced or shrank: forget what came before, records start afresh
    skipped: int = 0  # complete lines that are not a JSON object with an integer "step"
    grew: bool = False  # new bytes arrived
    more: bool = False  # stopped at ``max_bytes``: there is more to read now
    mtime: float | None = None  # the log's modification time (its file server's clock)


class MetricsTail:
    """Reads a metrics.jsonl as it grows: each ``poll()`` returns only the records completed since.

    Keeps a byte offset and the incomplete last line, which waits for its newline (a line torn by
    a writer mid-flush is neither lost nor misread). A complete line that is not a JSON object with
    an integer ``step`` is skipped and counted. When the file is replaced (another inode: a resumed
    run rewrites it atomically) or shrinks, the poll says ``reset`` and reads it from the start.
    Reads bytes and decodes each line as UTF-8 with errors replaced, so a multi-byte character cut
    by a read boundary is whole when decoded.
    """

    def __init__(self, path: Path | str, max_bytes: int = READ_BYTES):
        self.path = Path(path)
        self.max_bytes = max_bytes
        self.skipped = 0  # in all
        self._identity: tuple[int, int] | None = None  # (st_dev, st_ino) of the file being read
        self._offset = 0  # bytes consumed, the pending partial line included
        self._pending = b""
        self._overlong = False  # the pending line passed MAX_LINE_BYTES: dropping it up to its newline

    @property
    def offset(self) -> int:
        return self._offset

    def _forget(self) -> None:
        self._identity, self._offset, self._pending, self._overlong = None, 0, b"", False

    def poll(self) -> TailRead:
        """The records completed since the last poll. OSError when the file is there but cannot be
        read (a share gone away); a missing file is an empty log."""
        try:
            f = open(self.path, "rb")  # open, not stat: on NFS it revalidates the cached size
        except (FileNotFoundError, NotADirectoryError):
            had_data = self._identity is not None
            self._forget()
            return TailRead(reset=had_data)
        with f:
            st = os.fstat(f.fileno())
            identity = (st.st_dev, st.st_ino)
            reset = self._identity is not None and (identity != self._identity or st.st_size < self._offset)
            if reset:
                self._forget()
            self._identity = identity
            if st.st_size <= self._offset:
                return TailRead(reset=reset, mtime=st.st_mtime)
            f.seek(self._offset)
            chunk = f.read(self.max_bytes)
        self._offset += len(chunk)
        records, skipped = self._parse(chunk)
        self.skipped += skipped
        return TailRead(records, reset, skipped, grew=bool(chunk), more=self._offset < st.st_size,
                        mtime=st.st_mtime)

    def _parse(self, chunk: bytes) -> tuple[list[dict], int]:
        *complete, rest = chunk.split(b"\n")
        lines: list[bytes] = []
        skipped = 0
        if complete:
            first = complete[0]
            if self._overlong:
                self._overlong = False  # the overlong line ends here, and was counted when dropped
            else:
                lines.append(self._pending + first)
            lines += complete[1:]
            self._pending = b""
        if not self._overlong:
            self._pending += rest
            if len(self._pending) > MAX_LINE_BYTES:
                self._pending, self._overlong = b"", True
                skipped += 1
        records = []
        for line in lines:
            record = _record(line)
            if record is not None:
                records.append(record)
            elif line.strip():
                skipped += 1
        return records, skipped


def _record(line: bytes) -> dict | None:
    if not line.strip():
        return None
    try:
        record = json.loads(line.decode("utf-8", errors="replace"))
    except ValueError:
        return None
    if not isinstance(record, dict):
        return None
    step = record.get("step")
    return record if isinstance(step, int) and not isinstance(step, bool) else None


class StepRate:
    """Steps per second from the records' own ``time`` (Unix seconds, the writer's clock) over the
    last ``window`` seconds of that clock: when the records arrive (a poll a second, a slow share,
    a whole history at once) does not change the rate."""

    def __init__(self, window: float = 5.0):
        self.window = window
        self._points: deque[tuple[float, int]] = deque()

    def clear(self) -> None:
        self._points.clear()

    def add(self, records: list[dict]) -> None:
        points = self._points
        for record in records:
            t, step = record.get("time"), record.get("step")
            if not isinstance(t, (int, float)) or not isinstance(step, int) or not math.isfinite(t):
                continue
            if points and (t < points[-1][0] or step < points[-1][1]):
                points.clear()  # another session of the run (its clock or steps went back)
            points.append((float(t), step))
            while len(points) > 2 and t - points[1][0] >= self.window:
                points.popleft()

    @property
    def steps_per_second(self) -> float | None:
        if len(self._points) < 2:
            return None
        (t0, s0), (t1, s1) = self._points[0], self._points[-1]
        return (s1 - s0) / (t1 - t0) if t1 > t0 else None


# -- samples/ and the checkpoint --------------------------------------------------------------------
def list_sample_grids(folder: Path | str) -> list[tuple[int, Path]]:
    """(step, path) of every ``samples/step_N.png``, by step; other names are ignored."""
    samples = Path(folder) / SAMPLES_DIR
    try:
        names = os.listdir(samples)
    except (FileNotFoundError, NotADirectoryError):
        return []
    grids = [(int(match.group(1)), samples / name) for name in names if (match := GRID_NAME.fullmatch(name))]
    return sorted(grids)


def read_grid(path: Path | str):
    """A sample grid PNG as a numpy uint8 HWC array (C = 1 or 3). RunFolderError naming the file if
    it is missing, truncated or not an image."""
    import numpy as np
    from PIL import Image

    try:
        with Image.open(path) as image:
            image.load()
            if image.mode not in ("L", "RGB"):
                image = image.convert("RGB")
            pixels = np.asarray(image, dtype=np.uint8)
    except FileNotFoundError as exc:
        raise RunFolderError(f"sample grid {path} is gone") from exc
    except (OSError, ValueError, SyntaxError, Image.DecompressionBombError) as exc:
        raise RunFolderError(f"cannot read sample grid {path}: {exc}") from exc
    return pixels[:, :, None] if pixels.ndim == 2 else pixels


def spread(items: list, count: int) -> list:
    """At most ``count`` of ``items``, evenly spread, the first and the last always among them."""
    if len(items) <= count:
        return list(items)
    if count <= 1:
        return items[-1:]
    last = len(items) - 1
    return [items[i] for i in sorted({round(k * last / (count - 1)) for k in range(count)})]
