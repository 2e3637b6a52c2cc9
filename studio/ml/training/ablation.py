"""The skip ablation of seed paper 001 (Tables 1-4): train the autoencoder, the full U-Net and
U-Nets with only some skips on the same pairs, then compare their train/test MSE.

Qt-free: ``latent-studio unet-ablation`` trains the variants one after another here; the
switchboard panel trains them through the studio's TrainingWorker and fills the same table with
:func:`evaluate` and :func:`write_table`.
"""

from __future__ import annotations

import csv
import math
from dataclasses import asdict, dataclass
from pathlib import Path

from studio.ml.models.unet import parse_skips, skips_label
from studio.ml.training.unet_params import PAPER_VARIANTS, QUICK_VARIANTS

__all__ = ["PAPER_MSE", "PAPER_VARIANTS", "QUICK_VARIANTS", "AblationRow", "evaluate", "markdown_table",
           "variant_folder", "variant_label", "write_table"]
# Tables 1-4 of the paper (train MSE, test MSE), pixel values in [0, 1]
PAPER_MSE: dict[str, tuple[float, float]] = {
    "AE": (0.0102, 0.0488), "U-Net": (0.0007, 0.0089),
    "Concat1": (0.0084, 0.0132), "Concat2": (0.0014, 0.0087), "Concat3": (0.0015, 0.0108), "Concat4": (0.0019, 0.0151),
    "Concat1,2": (0.0014, 0.0087), "Concat2,3": (0.0010, 0.0089), "Concat2,4": (0.0010, 0.0089),
    "Concat1,2,3": (0.0009, 0.0090), "Concat1,2,4": (0.0009, 0.0087), "Concat2,3,4": (0.0008, 0.0088),
}


def variant_label(skips: str) -> str:
    """A ``skips`` parameter value ("none", "2", "1234") in the paper's words ("AE", "Concat2", "U-Net")."""
    return skips_label(parse_skips(skips))


def variant_folder(skips: str) -> str:
    """A file-system-safe folder name for a variant: "ae", "unet", "concat2", "concat1-2"."""
    return variant_label(skips).lower().replace("-", "").replace(",", "-")


@dataclass(frozen=True)
class AblationRow:
    skips: str  # the model's ``skips`` parameter
    label: str  # the paper's name
    train_mse: float
    test_mse: float
    steps: int
    checkpoint: str = ""

    @property
    def paper(self) -> tuple[float, float] | None:
        return PAPER_MSE.get(self.label)


def evaluate(model, pairs, skips: str, steps: int, checkpoint: str | Path = "") -> AblationRow:
    """The table row of a trained ``model`` (``model(images, keep)``) on ``pairs``."""
    from studio.ml.analysis.switchboard import split_mse

    return AblationRow(skips, variant_label(skips), split_mse(model, pairs, "train"), split_mse(model, pairs, "test"),
                       steps, str(checkpoint))


def _cell(value: float | None) -> str:
    return "" if value is None or math.isnan(value) else f"{value:.4f}"


def markdown_table(rows: list[AblationRow]) -> str:
    """Ours beside the paper's, one variant per row, in the order given."""
    lines = ["| model | skips | steps | train MSE | test MSE | paper train | paper test |",
             "|---|---|---:|---:|---:|---:|---:|"]
    for row in rows:
        paper = row.paper or (None, None)
        lines.append(f"| {row.label} | {row.skips} | {row.steps} | {_cell(row.train_mse)} | {_cell(row.test_mse)} "
                     f"| {_cell(paper[0])} | {_cell(paper[1])} |")
    return "\n".join(lines) + "\n"


def write_table(rows: list[AblationRow], out_dir: Path | str, stem: str = "mse") -> tuple[Path, Path]:
    """``stem.csv`` and ``stem.md`` in ``out_dir``; returns both paths."""
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    csv_path, md_path = out_dir / f"{stem}.csv", out_dir / f"{stem}.md"
    fields = [*AblationRow.__dataclass_fields__, "paper_train_mse", "paper_test_mse"]
    with open(csv_path, "w", newline="", encoding="utf-8") as f:
        writer = csv.DictWriter(f, fieldnames=fields)
        writer.writeheader()
        for row in rows:
            paper = row.paper or ("", "")
            writer.writerow(asdict(row) | {"paper_train_mse": paper[0], "paper_test_mse": paper[1]})
    md_path.write_text(markdown_table(rows), encoding="utf-8")
    return csv_path, md_path
