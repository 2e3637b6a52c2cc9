"""An edit recipe: everything needed to draw an edited image again, as JSON.

The start z is stored as its seed when it came from one (``seed_latent``), else as its numbers
(a dataset image's or a dropped image's z, found by the encoder or by optimisation, is kept as
found: re-encoding could land elsewhere). Edits are (direction, amount) pairs in the order they
are applied: for the warped model the order changes the result. The direction model is named by
its checkpoint and that file's SHA-256, so a replay against another file is refused rather than
drawing something else.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path

import torch

from studio.ml.analysis.latent_paths import seed_latent
from studio.ml.checkpoints import file_sha256
from studio.ml.models.latent_editor import LatentEditor

RECIPE_FORMAT = "latent-studio/edit-recipe/1"


class RecipeError(ValueError):
    """A recipe that cannot be read or does not fit the model it is replayed with."""


@dataclass
class EditRecipe:
    checkpoint: str  # the direction model's .safetensors ("" for a model never saved)
    checkpoint_sha256: str
    method: str
    edits: list[tuple[int, float]] = field(default_factory=list)
    seed: int | None = None  # the start z came from seed_latent(seed, nz)...
    z: list[float] | None = None  # ... or is stored as is
    directions: list[str] = field(default_factory=list)  # the names the editor showed, for reading

    def start_latent(self, nz: int) -> torch.Tensor:
        """The start z, (1, nz) float32."""
        if self.seed is not None:
            return seed_latent(self.seed, nz)[None]
        if self.z is None or len(self.z) != nz:
            found = "none" if self.z is None else f"{len(self.z)} numbers"
            raise RecipeError(f"the recipe's start z has {found}; the model needs {nz}")
        return torch.tensor(self.z, dtype=torch.float32)[None]

    def to_json(self) -> str:
        data = {"format": RECIPE_FORMAT, **self.__dict__, "edits": [[int(k), float(t)] for k, t in self.edits]}
        return json.dumps(data, indent=2)

    def save(self, path: Path | str) -> Path:
        path = Path(path)
        path.write_text(self.to_json() + "\n", encoding="utf-8")
        return path

    @classmethod
    def load(cls, path: Path | str) -> EditRecipe:
        """RecipeError naming ``path`` when it is not a readable recipe."""
        try:
            data = json.loads(Path(path).read_text(encoding="utf-8"))
        except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
            raise RecipeError(f"{path}: not a readable edit recipe ({exc})") from exc
        if not isinstance(data, dict) or data.pop("format", None) != RECIPE_FORMAT:
            raise RecipeError(f"{path}: not an edit recipe (no format {RECIPE_FORMAT!r})")
        try:
            recipe = cls(**data)
            recipe.edits = [(int(k), float(t)) for k, t in recipe.edits]
        except (TypeError, ValueError) as exc:
            raise RecipeError(f"{path}: malformed edit recipe ({exc})") from exc
        return recipe


def check_model(recipe: EditRecipe, checkpoint: Path | str) -> None:
    """RecipeError unless ``checkpoint`` is the very file the recipe was made with."""
    if recipe.checkpoint_sha256 and file_sha256(checkpoint) != recipe.checkpoint_sha256:
        raise RecipeError(f"{checkpoint} is not the direction model the recipe was made with "
                          f"(SHA-256 differs from {recipe.checkpoint_sha256[:12]}…)")


@torch.no_grad()
def replay(recipe: EditRecipe, editor: LatentEditor) -> torch.Tensor:
    """The recipe's image, float (1, C, H, W) in [-1, 1] on the CPU."""
    if recipe.method != editor.method:
        raise RecipeError(f"the recipe was made with a {recipe.method} model, not a {editor.method} one")
    device = next(editor.parameters()).device
    z = recipe.start_latent(editor.nz).to(device)
    return editor.render(z, recipe.edits).float().cpu()
