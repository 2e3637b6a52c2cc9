"""Built-in model kinds and datasets.

Registered as the ``builtins`` plugin. Nothing heavy is imported here: torch, numpy and
scikit-learn load when a trainer or dataset is first built.
"""

from __future__ import annotations

from pathlib import Path

from studio import hookimpl
from studio.contributions import DatasetSpec, ModelKind
from studio.ml.training.dcgan_params import DCGAN_PARAMS
from studio.ml.training.vaegan_params import VAEGAN_PARAMS


def _build_dcgan(config, dataset, device, seed):
    from studio.ml.training.dcgan import DCGANTrainer

    return DCGANTrainer(config, dataset, device, seed)


def _build_vaegan(config, dataset, device, seed):
    from studio.ml.training.vaegan import VAEGANTrainer

    return VAEGANTrainer(config, dataset, device, seed)


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
    ]
