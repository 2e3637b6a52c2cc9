"""Built-in model kinds and datasets.

Registered as the ``builtins`` plugin. Nothing heavy is imported here: torch, numpy and
scikit-learn load when a trainer or dataset is first built.
"""

from __future__ import annotations

from pathlib import Path

from studio import hookimpl
from studio.contributions import DatasetSpec, ModelKind
from studio.ml.training.dcgan_params import DCGAN_PARAMS
from studio.ml.training.directions_params import DIRECTIONS_PARAMS
from studio.ml.training.spectrogram_params import SPECTROGRAM_PARAMS
from studio.ml.training.unet_params import UNET_PARAMS
from studio.ml.training.vaegan_params import VAEGAN_PARAMS
from studio.ml.training.wavegan_params import WAVEGAN_PARAMS


def _build_dcgan(config, dataset, device, seed):
    from studio.ml.training.dcgan import DCGANTrainer

    return DCGANTrainer(config, dataset, device, seed)


def _build_vaegan(config, dataset, device, seed):
    from studio.ml.training.vaegan import VAEGANTrainer

    return VAEGANTrainer(config, dataset, device, seed)


def _build_cq_dcgan(config, clips, device, seed):
    from studio.ml.training.spectrogram import SpectrogramGANTrainer

    return SpectrogramGANTrainer(config, clips, device, seed)


def _build_wavegan(config, clips, device, seed):
    from studio.ml.training.wavegan import WaveGANTrainer

    return WaveGANTrainer(config, clips, device, seed)


def _build_unet(config, pairs, device, seed):
    from studio.ml.training.unet import UNetTrainer

    return UNetTrainer(config, pairs, device, seed)


def _build_directions(config, dataset, device, seed):
    from studio.ml.training.directions import DirectionTrainer

    return DirectionTrainer(config, dataset, device, seed)


def _shapes(size: int, channels: int | None, path: Path | None, seed: int):
    from studio.ml.data.shapes import make_shapes

    return make_shapes(size=size, channels=channels or 3, seed=seed)


def _digits(size: int, channels: int | None, path: Path | None, seed: int):
    from studio.ml.data.digits import load_digits

    return load_digits(size=size, channels=channels or 1)


def _folder(size: int, channels: int | None, path: Path | None, seed: int):
    from studio.ml.data.folder import load_image_folder

    return load_image_folder(path, size=size, channels=channels)


def _walk(size: int, channels: int | None, path: Path | None, seed: int):
    from studio.ml.data.walk import make_walk

    return make_walk(size=size, channels=channels or 3, seed=seed)


def _walk_strides(size: int, channels: int | None, path: Path | None, seed: int):
    from studio.ml.data.walk import make_walk

    return make_walk(n_frames=WALK_STRIDES_FRAMES, size=size, channels=channels or 3, seed=seed)


WALK_STRIDES_FRAMES = 48  # a predictive model's loop then goes round in tens of steps, not a thousand


def _frames(size: int, channels: int | None, path: Path | None, seed: int):
    from studio.ml.data.folder import load_frame_folder

    return load_frame_folder(path, size=size, channels=channels)


def _heads(size: int, channels: int | None, path: Path | None, seed: int):
    from studio.ml.data.heads import make_heads

    return make_heads(size=size, channels=channels or 3, seed=seed)


def _heads_plain(size: int, channels: int | None, path: Path | None, seed: int):
    from studio.ml.data.heads import make_heads

    return make_heads(size=size, channels=channels or 3, seed=seed, backdrop=False)


def _paired_folder(size: int, channels: int | None, path: Path | None, seed: int):
    from studio.ml.data.paired import load_paired_folder

    return load_paired_folder(path, size=size, channels=channels)


def _sine_tones(sample_rate: int, duration: float | None, path: Path | None, seed: int):
    from studio.ml.data.audio import make_sine_tones

    return make_sine_tones(sample_rate=sample_rate, duration=duration or 1.0, seed=seed)


def _bass_loops(sample_rate: int, duration: float | None, path: Path | None, seed: int):
    from studio.ml.data.audio import make_bass_loops

    return make_bass_loops(sample_rate=sample_rate, duration=duration or 2.0, seed=seed)


def _audio_folder(sample_rate: int, duration: float | None, path: Path | None, seed: int):
    from studio.ml.data.audio import load_audio_folder

    return load_audio_folder(path, sample_rate=sample_rate, duration=duration or 2.0)


@hookimpl
def register_model_kinds() -> list[ModelKind]:
    return [
        ModelKind(
            name="dcgan",
            title="DCGAN",
            params=DCGAN_PARAMS,
            build_trainer=_build_dcgan,
            description="Radford et al. 2015: conv generator and discriminator, 32x32 or 64x64, grayscale or "
            "RGB (spectral-norm D and resize-conv G by default; the paper's layers are parameters).",
        ),
        ModelKind(
            name="vaegan",
            title="VAE-GAN",
            params=VAEGAN_PARAMS,
            build_trainer=_build_vaegan,
            description="Larsen et al. 2015: an encoder in front of the DCGAN generator, reconstructions "
            "measured in the discriminator's features. predict=next trains the predictive model "
            "(frame t -> frame t+1) on ordered frames such as the walk.",
        ),
        ModelKind(
            name="cq_dcgan",
            title="Spectrogram GAN (constant-Q)",
            params=SPECTROGRAM_PARAMS,
            build_trainer=_build_cq_dcgan,
            modality="audio",
            output="spectrogram",
            description="The DCGAN on invertible constant-Q log spectrograms of audio clips (64 x 256 for "
            "a second at 3840 Hz); generated spectrograms become sound by fast Griffin-Lim.",
        ),
        ModelKind(
            name="wavegan",
            title="Waveform GAN (loops)",
            params=WAVEGAN_PARAMS,
            build_trainer=_build_wavegan,
            modality="audio",
            output="waveform",
            description="A DCGAN of 1-D convolutions on raw audio (kernel 5, stride 2), as the bass-loop "
            "GAN of seed paper 002.",
        ),
        ModelKind(
            name="unet",
            title="U-Net (side -> frontal)",
            params=UNET_PARAMS,
            build_trainer=_build_unet,
            modality="paired",
            output="translation",
            description="Seed paper 001's image-to-image U-Net: five stride-2 convs down to latent5, five "
            "transposed convs up, skip connections from latent1..latent4 (skips='none' is the plain "
            "autoencoder); trained on pairs by MSE.",
        ),
        ModelKind(
            name="directions",
            title="Latent directions (editor)",
            params=DIRECTIONS_PARAMS,
            build_trainer=_build_directions,
            output="edit",
            description="Seed paper 004: K directions in a frozen generator's latent space, found without "
            "labels by a reconstructor that tells which direction moved an image and how far; linear, "
            "warped (vector fields) or curvilinear (an invertible flow: edits commute). Train on the "
            "generator's own dataset.",
        ),
    ]


@hookimpl
def register_datasets() -> list[DatasetSpec]:
    return [
        DatasetSpec(
            "shapes",
            "Shapes (synthetic)",
            _shapes,
            description="8192 circles, squares, triangles and stars with known kind, position, "
            "scale, rotation, hue and background; made from the seed, no download.",
        ),
        DatasetSpec(
            "digits",
            "Handwritten digits",
            _digits,
            description="scikit-learn's 1797 real 8x8 handwritten digits, upsampled.",
        ),
        DatasetSpec(
            "folder",
            "Image folder…",
            _folder,
            needs_path=True,
            description="Every image under a folder (recursive); unreadable files are skipped "
            "and listed.",
        ),
        DatasetSpec(
            "walk",
            "Walk (synthetic, ordered frames)",
            _walk,
            description="1024 first-person frames of one lap around a courtyard with coloured walls, "
            "a pillar in each corner and bright landmarks; consecutive, the last leading into the "
            "first. Made from the seed, no download.",
        ),
        DatasetSpec(
            "walk_strides",
            "Walk in strides (48 frames a lap)",
            _walk_strides,
            description="The same lap in 48 frames: big steps between consecutive frames, so a "
            "predictive model's closed loop can go round the lap within a couple of hundred steps.",
        ),
        DatasetSpec(
            "frames",
            "Ordered frame folder…",
            _frames,
            needs_path=True,
            description="A video exported as images: every image under a folder, in natural order "
            "of the file names (frame2 before frame10), as consecutive frames; unreadable files are "
            "skipped and listed.",
        ),
        DatasetSpec(
            "heads",
            "Heads, side -> frontal (synthetic pairs)",
            _heads,
            modality="paired",
            description="Rendered 3-D heads (skin and hair colour, face width, eye, nose and mouth "
            "placement vary by identity) seen from the side before their own backdrop, each paired "
            "with the same head seen from the front; test pairs are whole identities held out. Made "
            "from the seed, no download.",
        ),
        DatasetSpec(
            "heads_plain",
            "Heads on plain gray (synthetic pairs)",
            _heads_plain,
            modality="paired",
            description="The same heads before one plain gray background: only the head tells pairs apart.",
        ),
        DatasetSpec(
            "paired_folder",
            "Paired folder (input/ -> target/)…",
            _paired_folder,
            needs_path=True,
            modality="paired",
            description="input/ and target/ images matched by file name (a.png -> a.jpg counts); "
            "test/input and test/target, when present, are the test pairs, else every fifth pair by "
            "name. Unpaired and unreadable files are skipped and listed.",
        ),
        DatasetSpec(
            "sine_tones",
            "Sine tones (synthetic audio)",
            _sine_tones,
            modality="audio",
            description="1024 one-second single sine notes at random pitches from 110 to 880 Hz, as the "
            "sound experiment of seed paper 000; made from the seed.",
        ),
        DatasetSpec(
            "bass_loops",
            "Bass loops (synthetic audio)",
            _bass_loops,
            modality="audio",
            description="Four seamless two-second bass phrases, one bar each, as the training set of seed "
            "paper 002; made from the seed.",
        ),
        DatasetSpec(
            "audio_folder",
            "Audio folder…",
            _audio_folder,
            needs_path=True,
            modality="audio",
            description="Every WAV, FLAC and OGG file under a folder (recursive): downmixed to mono, "
            "resampled, the first clip-length of each; corrupt, empty, silent or too-short files are "
            "skipped and listed.",
        ),
    ]
