"""Follow a run folder (docs/run-folder.md) that another process writes: locally, or on a share.

A poller object lives on its own QThread ("run follower"), as the training worker does: follow and
detach arrive as queued signals, and its QTimer is made on that thread. Every ``interval_ms`` it
reads what changed in the folder (``studio.ml.training.run_folder``): run.json when its stamp
changes, the new complete lines of metrics.jsonl, new sample grids (decoded there with PIL),
last.safetensors when its stamp changes. The reads never happen on the UI thread: a share that
stalls stalls the poller, not the window. Each poll that found something is sent to the UI thread
as one queued batch; the poll after it is scheduled when it is done, so a slow share never piles
polls up, and a long history is read in chunks (``run_folder.READ_BYTES``), the next one at once.

``RunFollower`` is the UI-thread side: its methods and signals belong to the thread that made it,
so a panel may connect anything to them. Each ``follow``/``detach`` starts a new generation, and a
batch of an older one (polled before the command reached the poller) is dropped, so nothing of a
folder arrives after ``detach`` returns.
"""

from __future__ import annotations

import logging
import time
import traceback
from dataclasses import dataclass, field
from pathlib import Path

from PySide6.QtCore import QObject, QThread, QTimer, Signal, Slot

from studio.ml.training import run_folder as rf

log = logging.getLogger(__name__)

INTERVAL_MS = 1000
HISTORY_GRIDS = 32  # grids decoded when a folder is first read (spread over its history): bounded memory


@dataclass
class PollBatch:
    """What one poll found, for one generation of ``follow``."""

    generation: int
    reset: bool = False
    info: dict | None = None
    records: list[dict] = field(default_factory=list)
    grids: list[tuple[int, object]] = field(default_factory=list)  # (step, numpy HWC uint8)
    checkpoint: tuple[str, int] | None = None  # (path, step)
    grew_at: float | None = None  # wall-clock time the log last grew, when that changed
    problems: list[str] = field(default_factory=list)

    def __bool__(self) -> bool:
        return bool(self.reset or self.info is not None or self.records or self.grids or self.checkpoint
                    or self.grew_at is not None or self.problems)


class _Failures:
    """Files that failed to read. A file that fails is tried again while it changes (a writer may
    be halfway through it); once it fails twice at the same stamp it is reported, once, and left
    alone until it changes."""

    def __init__(self) -> None:
        self._tried: dict[Path, tuple] = {}  # failed once at this stamp
        self._given_up: dict[Path, tuple] = {}

    def skip(self, path: Path, stamp: tuple | None) -> bool:
        return self._given_up.get(path) == stamp

    def failed(self, path: Path, stamp: tuple | None) -> bool:
        """Note a failure; True when it is time to report it (and to give up on this stamp)."""
        if stamp is None or self._tried.get(path) == stamp:
            self._tried.pop(path, None)
            self._given_up[path] = stamp
            return True
        self._tried[path] = stamp
        return False

    def succeeded(self, path: Path) -> None:
        self._tried.pop(path, None)
        self._given_up.pop(path, None)


class _FolderState:
    """What the poller knows of the folder it follows."""

    def __init__(self, folder: Path, generation: int):
        self.folder = folder
        self.generation = generation
        self.tail = rf.MetricsTail(folder / rf.METRICS_NAME)
        self.first = True  # the next poll is the first since follow, or since the log was reset
        self.info_stamp: tuple | None = None
        self.info: dict | None = None
        self.checkpoint_stamp: tuple | None = None
        self.grids_seen: set[str] = set()
        self.failures = _Failures()
        self.reported: set[str] = set()  # problems of the last poll: a lasting one is told once


class _Poller(QObject):
    """Lives on the follower's thread; everything here reads files."""

    polled = Signal(object)  # a PollBatch

    def __init__(self) -> None:
        super().__init__()
        self._state: _FolderState | None = None
        self._interval_ms = INTERVAL_MS
        self._timer: QTimer | None = None  # made on the poller's thread, so it lives there
        self.polls = 0  # read from other threads by tests: an int is replaced atomically

    @Slot(int, str, int)
    def follow(self, generation: int, folder: str, interval_ms: int) -> None:
        self._state = _FolderState(Path(folder), generation)
        self._interval_ms = interval_ms
        if self._timer is None:
            self._timer = QTimer()
            self._timer.setSingleShot(True)
            self._timer.timeout.connect(self._poll)
        self._timer.start(0)  # the whole history at once

    @Slot()
    def detach(self) -> None:
        self._state = None
        if self._timer is not None:
            self._timer.stop()

    @Slot()
    def stop(self) -> None:
        """Stop polling and end the thread (a timer must be stopped on its own thread)."""
        self.detach()
        QThread.currentThread().quit()

    @Slot()
    def _poll(self) -> None:
        state = self._state
        if state is None:
            return
        self.polls += 1
        batch = PollBatch(state.generation)
        more = False
        try:
            more = self._read(state, batch)
        except Exception as exc:  # a share gone away (OSError), or a bug: say so, keep following
            log.warning("following %s:\n%s", state.folder, traceback.format_exc())
            batch.problems.append(f"cannot read {state.folder}: {type(exc).__name__}: {exc}")
        lasting = set(batch.problems)
        batch.problems = [p for p in batch.problems if p not in state.reported]
        state.reported = lasting
        if batch:
            self.polled.emit(batch)
        if self._state is state:
            self._timer.start(0 if more else self._interval_ms)

    def _read(self, state: _FolderState, batch: PollBatch) -> bool:
        folder = state.folder
        if not folder.is_dir():
            batch.problems.append(f"{folder} is not there (a share not mounted, or a typo?): waiting for it")
            return False
        self._read_info(state, batch)
        read = state.tail.poll()
        if read.reset:
            batch.reset, state.first = True, True
            state.grids_seen.clear()
        batch.records = read.records
        if read.skipped:
            batch.problems.append(f"{state.tail.path}: skipped {state.tail.skipped} unreadable line(s) so far")
        now = time.time()
        if state.first and read.mtime is not None:
            batch.grew_at = min(read.mtime, now)  # the file server's clock: only until it grows
        elif read.grew or read.reset:
            batch.grew_at = now
        self._read_grids(state, batch)
        self._read_checkpoint(state, batch)
        state.first = state.first and read.more  # the history is read once the log's end is reached
        return read.more

    def _read_info(self, state: _FolderState, batch: PollBatch) -> None:
        path = state.folder / rf.RUN_INFO_NAME
        stamp = rf.file_stamp(path)
        if stamp is None or stamp == state.info_stamp or state.failures.skip(path, stamp):
            return
        try:
            info = rf.read_run_info(state.folder)
        except rf.RunFolderError as exc:
            if state.failures.failed(path, stamp):
                batch.problems.append(str(exc))
            return
        state.failures.succeeded(path)
        state.info_stamp = stamp
        if info is not None:
            info = {**info, "source": rf.RUN_INFO_NAME}
            if info != state.info:
                state.info = batch.info = info

    def _read_grids(self, state: _FolderState, batch: PollBatch) -> None:
        new = [(step, path) for step, path in rf.list_sample_grids(state.folder) if path.name not in state.grids_seen]
        if state.first:  # a history: a few grids spread over it, the newest among them
            chosen = rf.spread(new, HISTORY_GRIDS)
            names = {path.name for _, path in chosen}
            state.grids_seen.update(path.name for _, path in new if path.name not in names)
            new = chosen
        for step, path in new:
            stamp = rf.file_stamp(path)
            if state.failures.skip(path, stamp):
                continue
            try:
                batch.grids.append((step, rf.read_grid(path)))
            except rf.RunFolderError as exc:
                if state.failures.failed(path, stamp):
                    state.grids_seen.add(path.name)
                    batch.problems.append(f"{exc} (skipped)")
                continue
            state.failures.succeeded(path)
            state.grids_seen.add(path.name)

    def _read_checkpoint(self, state: _FolderState, batch: PollBatch) -> None:
        path = state.folder / rf.CHECKPOINT_NAME
        stamp = rf.file_stamp(path)
        if stamp is None or stamp == state.checkpoint_stamp or state.failures.skip(path, stamp):
            return
        try:
            meta = rf.read_checkpoint_meta(path)
            step = int(meta.get("step") or 0)
            # no run.json (yet): a folder written before it existed is described by its checkpoint
            fallback = rf.info_from_checkpoint_meta(meta, path) if state.info_stamp is None else None
        except (rf.RunFolderError, TypeError, ValueError) as exc:
            if state.failures.failed(path, stamp):
                batch.problems.append(str(exc))
            return
        state.failures.succeeded(path)
        state.checkpoint_stamp = stamp
        batch.checkpoint = (str(path), step)
        if fallback is not None and fallback != state.info:
            state.info = batch.info = fallback


class RunFollower(QObject):
    """Follows one run folder at a time. Signals are emitted on the thread that made the follower.

    - ``following(path)``: ``follow`` or ``detach`` was called ("" after detach)
    - ``info(dict)``: run.json (``"source": "run.json"``), when it changes; for a folder without
      one, its checkpoint's metadata (``"source": "checkpoint"``; ``run_folder.info_from_checkpoint_meta``)
    - ``records(list)``: new metric records; the first batches after ``follow`` are the whole log
    - ``reset()``: the log was rewritten (a resumed run): forget its records, they come again
    - ``grid(step, image)``: a sample grid (numpy HWC uint8) new since the last poll; after
      ``follow`` or ``reset``, up to ``HISTORY_GRIDS`` spread over the history
    - ``checkpoint(path, step)``: last.safetensors appeared or changed (also the one there at ``follow``)
    - ``log_grew(time)``: wall-clock time the log last grew (at ``follow``: its modification time)
    - ``problem(message)``: a file that cannot be read, named; following goes on
    """

    following = Signal(str)
    info = Signal(dict)
    records = Signal(list)
    reset = Signal()
    grid = Signal(int, object)
    checkpoint = Signal(str, int)
    log_grew = Signal(float)
    problem = Signal(str)

    # commands, queued to the poller's thread
    _follow_requested = Signal(int, str, int)
    _detach_requested = Signal()
    _stop_requested = Signal()

    def __init__(self, interval_ms: int = INTERVAL_MS, parent: QObject | None = None):
        super().__init__(parent)
        self.interval_ms = interval_ms  # for the next follow
        self._folder: Path | None = None
        self._generation = 0
        self._poller = _Poller()
        self._thread = QThread()
        self._thread.setObjectName("run follower")
        self._poller.moveToThread(self._thread)
        self._follow_requested.connect(self._poller.follow)
        self._detach_requested.connect(self._poller.detach)
        self._stop_requested.connect(self._poller.stop)
        self._poller.polled.connect(self._deliver)  # a QObject method: queued to this thread
        self._thread.start()

    @property
    def folder(self) -> Path | None:
        """The folder followed now (None: none)."""
        return self._folder

    @property
    def polls(self) -> int:
        """How many times the poller has looked at a folder (tests: nothing is polled after detach)."""
        return self._poller.polls

    def follow(self, folder: Path | str) -> None:
        """Follow ``folder`` from its beginning (and stop following the one before)."""
        self._generation += 1
        self._folder = Path(folder)
        self._follow_requested.emit(self._generation, str(self._folder), int(self.interval_ms))
        self.following.emit(str(self._folder))

    def detach(self) -> None:
        """Stop following; nothing more of the folder is emitted after this returns."""
        if self._folder is None:
            return
        self._generation += 1
        self._folder = None
        self._detach_requested.emit()
        self.following.emit("")

    def shutdown(self, timeout_ms: int = 10_000) -> None:
        """Stop following and end the thread (after the poll under way, if any)."""
        self._generation += 1
        self._folder = None
        if self._thread.isRunning():
            self._stop_requested.emit()
            if not self._thread.wait(timeout_ms):
                log.error("the run follower is still reading after %d ms (a share that does not answer?)",
                          timeout_ms)

    @Slot(object)
    def _deliver(self, batch: PollBatch) -> None:
        if batch.generation != self._generation:
            return  # polled before a later follow or detach reached the poller
        if batch.reset:
            self.reset.emit()
        if batch.info is not None:
            self.info.emit(batch.info)
        if batch.records:
            self.records.emit(batch.records)
        for step, image in batch.grids:
            self.grid.emit(step, image)
        if batch.checkpoint is not None:
            self.checkpoint.emit(*batch.checkpoint)
        if batch.grew_at is not None:
            self.log_grew.emit(batch.grew_at)
        for message in batch.problems:
            self.problem.emit(message)
