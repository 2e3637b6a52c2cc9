"""The "Loop player" panel: an audio GAN's loops, seen and heard.

Left: model, latent (seeds A and B, morph), playback (play, stop, volume, export) and the map of
generated against training loops. Right: the spectrogram of the loop on show, with a playhead.
Loops are generated on the inference thread and resampled for the output there too; the audio
callback only copies prepared buffers, and a new loop takes over at the next loop seam.
Dropping a sound file shows, plays and maps it; dropping a checkpoint loads it.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
from PySide6.QtCore import QSize
from PySide6.QtWidgets import QFileDialog, QWidget

from studio.ml.audio.codec import CQConfig, codec_for_model
from studio.ml.audio.compare import loop_images
from studio.ml.data.audio import AUDIO_EXTENSIONS, AudioFileError, load_audio_file
from studio.runtime.studio import Studio
from studio.ui.alert import AlertLabel
from studio.ui.file_drops import AcceptsFileDrops
from studio.ui.model_picker import ModelPicker, draws
from studio.ui.panel_layout import lay_out_model_panel
from studio.ui.shortcuts import add_shortcut
from studio_plugins.loop_player.latent_controls import LatentControls
from studio_plugins.loop_player.loop_map_view import LoopMapView
from studio_plugins.loop_player.spectrogram_view import SpectrogramView
from studio_plugins.loop_player.transport import Transport
from studio_plugins.loop_player.work import Comparison, RenderedLoop, compare_with_training, render_loop

REQUESTER = "loop_player.loop"
LEFT_WIDTH = 300
PREFERRED_SIZE = QSize(1000, 520)
AUDIO_OUTPUTS = ("waveform", "spectrogram")


class LoopPlayerPanel(AcceptsFileDrops, QWidget):
    def __init__(self, studio: Studio, parent: QWidget | None = None):
        super().__init__(parent)
        self.studio = studio
        self.shown: RenderedLoop | None = None  # the loop on show (and playing, or next to play)
        self.dropped: tuple[Path, np.ndarray, int] | None = None  # path, audio, rate of a dropped file
        self.comparison: Comparison | None = None
        self._stamp: int | None = None
        self._map_job: int | None = None
        self._drop_job: int | None = None
        self._stopped = False  # the studio is closing: late results and job reports are ignored

        self.picker = ModelPicker(studio, accepts_meta=draws(studio, *AUDIO_OUTPUTS))
        self.latent = LatentControls()
        self.transport = Transport()
        self.map = LoopMapView()
        self.spectrogram = SpectrogramView()
        self.alert = AlertLabel()
        self._build_layout()
        self._connect()
        add_shortcut(self, "Play / Stop", "Space", self.toggle_playback)
        self.setAcceptDrops(True)
        self.transport.set_output(*studio.audio.available())
        self._model_changed(self.picker.current_name())

    def stop(self) -> None:
        """The studio is closing: fade the sound out and take no more results."""
        self._stopped = True  # the engine outlives the window's plots, and its timer keeps reporting
        self.studio.audio.stop()

    def sizeHint(self) -> QSize:
        return PREFERRED_SIZE

    def _build_layout(self) -> None:
        lay_out_model_panel(self, self.picker, [self.latent, self.transport, self.alert, self.map],
                            self.spectrogram, LEFT_WIDTH, 700, stretch=self.map)

    def _connect(self) -> None:
        studio = self.studio
        self.picker.model_changed.connect(self._model_changed)
        self.latent.changed.connect(lambda _request: self._render())
        self.transport.play_clicked.connect(self.play)
        self.transport.stop_clicked.connect(studio.audio.stop)
        self.transport.volume_changed.connect(studio.audio.set_volume)
        self.transport.export_clicked.connect(self._ask_export)
        self.map.build_clicked.connect(self.build_map)
        self.map.generated_clicked.connect(self.latent.set_seed_a)
        studio.audio.position_changed.connect(self._on_position)
        studio.audio.status_changed.connect(self._on_audio_status)
        studio.models.result_ready.connect(self._on_result)
        studio.models.request_failed.connect(self._on_request_failed)
        studio.jobs.finished.connect(self._on_job_finished)
        studio.jobs.failed.connect(self._on_job_failed)
        studio.audio.set_volume(self.transport.volume.value() / 100)

    # -- the model and its loops ----------------------------------------------------------------
    def _meta(self) -> dict:
        loaded = self.picker.current()
        return loaded.meta if loaded is not None else {}

    def _model_changed(self, name: str) -> None:
        self.comparison = None
        self.map.clear()
        self.map.build.setEnabled(bool(name))
        self._render()

    def _render(self) -> None:
        name = self.picker.current_name()
        if not name:
            return
        meta = self._meta()
        output = self.studio.catalog.model_kind(meta["kind"]).output
        mixer = self.studio.audio.mixer
        prepare = mixer.prepare if mixer is not None else None
        fn = render_loop(self.latent.request(), meta["config"], output, prepare)
        self._stamp = self.studio.models.submit(REQUESTER, name, fn)

    def _on_result(self, requester: str, stamp: int, result) -> None:
        if requester != REQUESTER or stamp != self._stamp or self._stopped:
            return
        self.shown = result
        self.dropped = None
        request, loops = result.request, result.loops
        morph = "" if request.morph == 0 else f" → seed {request.seed_b} at {request.morph:.0%} ({request.mode})"
        self._show(loops.images[0], loops.audio[0], loops.sample_rate, f"seed {request.seed_a}{morph}")
        if self._playing():
            self._queue(loops.audio[0], loops.sample_rate, result.prepared)

    def _on_request_failed(self, requester: str, stamp: int, message: str) -> None:
        if requester == REQUESTER and stamp == self._stamp:
            self._alert(f"Could not generate the loop: {message}")

    def _show(self, image: np.ndarray, audio: np.ndarray, rate: int, what: str) -> None:
        seconds = len(audio) / rate
        peak = float(np.abs(audio).max()) if len(audio) else 0.0
        level = f"peak {20 * np.log10(peak):.1f} dBFS" if peak > 0 else "silent"
        codec = self._codec(rate, len(audio))
        self.spectrogram.show_image(image, codec.frequencies, seconds,
                                    f"{what}: {seconds:g} s at {rate} Hz, {level}")
        self.alert.hide()

    def _codec(self, rate: int, samples: int):
        config = dict(self._meta().get("config", {}), sample_rate=rate, samples=samples)
        return codec_for_model(config)

    # -- playback -------------------------------------------------------------------------------
    def _on_position(self, seconds: float) -> None:
        if not self._stopped:
            self.spectrogram.set_playhead(seconds if self._playing() else None)

    def _on_audio_status(self, text: str) -> None:
        if not self._stopped:
            self.transport.set_status(text)

    def _playing(self) -> bool:
        mixer = self.studio.audio.mixer
        return mixer is not None and mixer.playing

    def play(self) -> None:
        loop = self._current_audio()
        if loop is None:
            self._alert("Nothing to play yet: choose an audio model, or drop a sound file here.")
            return
        ok, message = self.studio.audio.start()
        if not ok:
            self.transport.set_output(False, message)
            return
        made = self.shown.prepared if self.dropped is None and self.shown is not None else None
        self._queue(*loop, made)

    def _queue(self, audio: np.ndarray, rate: int, prepared) -> None:
        mixer = self.studio.audio.mixer
        if mixer is None:
            return
        if prepared is None or prepared.sample_rate != mixer.sample_rate:  # made before a restart
            prepared = mixer.prepare(audio, rate)
        mixer.queue(prepared)

    def _current_audio(self) -> tuple[np.ndarray, int] | None:
        if self.dropped is not None:
            return self.dropped[1], self.dropped[2]
        if self.shown is not None:
            return self.shown.loops.audio[0], self.shown.loops.sample_rate
        return None

    # -- export ---------------------------------------------------------------------------------
    def _ask_export(self) -> None:
        if self._current_audio() is None:
            self._alert("Nothing to export yet.")
            return
        path, _ = QFileDialog.getSaveFileName(self, "Export the loop", "loop.wav", "Sound (*.wav *.flac)")
        if path:
            self.export(Path(path))

    def export(self, path: Path) -> Path | None:
        """Write the loop on show (one period, at its own rate) as WAV or FLAC, by the suffix."""
        import soundfile

        audio, rate = self._current_audio()
        path = path if path.suffix.lower() in (".wav", ".flac") else path.with_suffix(".wav")
        try:
            soundfile.write(path, audio, rate)
        except (OSError, RuntimeError, soundfile.LibsndfileError) as exc:
            self._alert(f"Could not write {path}: {exc}")
            return None
        self.studio.show_message(f"exported {path}")
        return path

    # -- the map --------------------------------------------------------------------------------
    def build_map(self) -> None:
        name = self.picker.current_name()
        loaded = self.picker.current()
        if loaded is None or self._map_job is not None:
            return
        meta, studio = loaded.meta, self.studio
        output = studio.catalog.model_kind(meta["kind"]).output

        def job(context):
            clips = studio.datasets.get(meta["setup"])
            return compare_with_training(loaded.module, meta["config"], output, clips, name,
                                         progress=context.progress, cancelled=context.cancelled)

        self._map_job = studio.jobs.submit(f"mapping {name} against its training loops", job).id
        self.map.build.setEnabled(False)
        self.map.clear("Generating 100 loops and mapping them…")

    def _on_job_finished(self, job_id: int, result) -> None:
        if self._stopped:
            return
        if job_id == self._map_job:
            self._map_job = None
            self.map.build.setEnabled(True)
            if result is not None and result.model == self.picker.current_name():
                self.comparison = result
                self.map.show_comparison(result)
                self._place_dropped()
            elif result is None:
                self.map.clear("Mapping was cancelled.")
        elif job_id == self._drop_job and result is None:  # cancelled before it started
            self._drop_job = None
        elif job_id == self._drop_job:
            self._drop_job = None
            path, audio, rate = result
            self.dropped = (path, audio, rate)
            codec = self._codec(rate, len(audio))
            self._show(codec.encode(audio), audio, rate, path.name)
            self._place_dropped()
            if self._playing():
                self._queue(audio, rate, None)

    def _on_job_failed(self, job_id: int, message: str) -> None:
        if self._stopped:
            return
        if job_id == self._map_job:
            self._map_job = None
            self.map.build.setEnabled(True)
            self.map.clear(message)
        elif job_id == self._drop_job:
            self._drop_job = None
            self._alert(message)

    # -- dropped files --------------------------------------------------------------------------
    def files_dropped(self, paths: list[Path]) -> None:
        checkpoints = [p for p in paths if p.suffix.lower() == ".safetensors"]
        sounds = [p for p in paths if p.suffix.lower() in AUDIO_EXTENSIONS]
        if checkpoints:
            self.picker.load_checkpoint(checkpoints[0])
        if sounds:
            self.open_sound(sounds[0])
        if not checkpoints and not sounds:
            self._alert(f"{paths[0].name if paths else 'that'}: drop a WAV, FLAC or OGG file, or a checkpoint")

    def open_sound(self, path: Path) -> None:
        """Read ``path`` in the background at the model's rate, one loop long (repeated if shorter)."""
        config = self._meta().get("config") or CQConfig().to_dict()
        rate, samples = int(config["sample_rate"]), int(config["samples"])

        def job(context):
            try:
                audio = load_audio_file(path, rate, max_duration=samples / rate)
            except AudioFileError as exc:
                raise ValueError(str(exc)) from None
            return path, np.resize(audio, samples).astype(np.float32), rate

        self._drop_job = self.studio.jobs.submit(f"reading {path.name}", job).id

    def _place_dropped(self) -> None:
        if self.dropped is None or self.comparison is None:
            return
        path, audio, rate = self.dropped
        images = loop_images(self._codec(rate, len(audio)), audio[None])
        found = self.comparison.map
        xy, training, generated = found.place(images)
        label = self.comparison.training_labels[int(training.index[0])]
        seed = int(self.comparison.generated_seeds[int(generated.index[0])])
        self.map.show_dropped(xy[0], f"{path.name}: nearest training loop {label!r} at {training.distance[0]:.3f}, "
                                     f"nearest generated loop seed {seed} at {generated.distance[0]:.3f}")

    def _alert(self, text: str) -> None:
        self.alert.setText(text)
        self.alert.show()
        self.studio.show_message(text)

    # -- shortcuts and sessions (studio/ui/shortcuts.py, studio/ui/sessions.py) -------------------
    def toggle_playback(self) -> None:
        """Space: stop the loop playing, else play the one on show (as the buttons would)."""
        (self.transport.stop if self._playing() else self.transport.play).click()

    def session_state(self) -> dict:
        """The model, seeds A and B, the morph and its path, and the volume."""
        latent = self.latent
        return {"model": self.picker.current_name(), "seed_a": latent.seed_a.value(), "seed_b": latent.seed_b.value(),
                "morph": latent.morph.value(), "mode": latent.mode.currentText(),
                "volume": self.transport.volume.value()}

    def restore_session(self, state: dict) -> None:
        latent = self.latent
        latent.set_values(int(state.get("seed_a", latent.seed_a.value())),
                          int(state.get("seed_b", latent.seed_b.value())),
                          int(state.get("morph", latent.morph.value())),
                          str(state.get("mode", latent.mode.currentText())))
        if "volume" in state:
            self.transport.volume.setValue(int(state["volume"]))
        self.picker.choose(str(state.get("model") or ""))
