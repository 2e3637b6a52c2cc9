"""Run by tests/test_distributed.py under torchrun (2 CPU processes, gloo), not by pytest itself.

For every trainer: two steps through ``distribute`` must leave both processes with identical
weights and identical (averaged) losses, while a control that takes its shard of the data without
DDP ends up with different weights, so the first result comes from averaging, not from both
processes seeing the same batch. Rank 0 writes what it measured as JSON to argv[1].
"""

import json
import sys

import torch

from studio.catalog import Catalog, RunSetup
from studio.ml import distributed
from studio.plugin_manager import PluginManager

GAN = {"nz": 8, "ngf": 8, "ndf": 8, "batch_size": 8}


def setups(generator: str) -> dict[str, RunSetup]:
    audio = {"sample_rate": 3840, "duration": 0.5}
    editor = {"generator": generator, "directions": 3, "batch_size": 8}
    return {
        "dcgan": RunSetup("dcgan", "shapes", config=GAN),
        "vaegan": RunSetup("vaegan", "shapes", config=GAN | {"nef": 8}),
        "vaegan-next": RunSetup("vaegan", "walk", config=GAN | {"nef": 8, "predict": "next"}),
        "unet": RunSetup("unet", "heads", image_size=32, config={"width": 4, "batch_size": 8}),
        "cq_dcgan": RunSetup("cq_dcgan", "sine_tones", config=GAN, **audio),
        "wavegan": RunSetup("wavegan", "sine_tones", config=GAN, **audio),
        **{f"directions-{method}": RunSetup("directions", "shapes", config=editor | {"method": method})
           for method in ("linear", "warped", "curvilinear")},
    }


def weights(trainer) -> torch.Tensor:
    return torch.cat([p.detach().flatten() for network in trainer._networks().values() for p in network.parameters()])


def spread(group, values: torch.Tensor) -> float:
    """The largest difference between any process's ``values`` and rank 0's."""
    everyone = [torch.empty_like(values) for _ in range(group.world_size)]
    torch.distributed.all_gather(everyone, values)
    return max(float((other - everyone[0]).abs().max()) for other in everyone)


def main(out: str, generator: str) -> None:
    torch.set_num_threads(1)
    group, device = distributed.join("cpu")
    plugins = PluginManager()
    plugins.discover()
    catalog = Catalog.from_plugins(plugins)
    results = {}
    for name, setup in setups(generator).items():
        synced, dataset = catalog.build_trainer(setup, device)
        control, _ = catalog.build_trainer(setup, device, dataset)
        synced.distribute(group)
        control.group, control.shard = group, group.shard()  # its share of the data, no DDP
        for _ in range(2):
            losses = synced.step()
            control.step()
        results[name] = {
            "start_spread": spread(group, weights(catalog.build_trainer(setup, device, dataset)[0])),
            "weight_spread": spread(group, weights(synced)),
            "loss_spread": spread(group, torch.tensor(list(losses.values()))),
            "unsynced_weight_spread": spread(group, weights(control)),
            "steps": synced.steps_done,
            "losses": losses,
        }
    if group.is_main:
        with open(out, "w") as f:
            json.dump({"world_size": group.world_size, "backend": group.backend, "results": results}, f)
    distributed.leave(group)


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2])
