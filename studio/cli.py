"""``latent-studio [gui] | train KIND | plugins | walk | closed-loop``.

The GUI is imported only by the ``gui`` command, so training and listing work on machines
without a display or Qt's system libraries.
"""

from __future__ import annotations

import argparse
import logging
import sys
from pathlib import Path

from studio import __version__, paths
from studio.catalog import Catalog, RunSetup, data_summary
from studio.commands import COMMANDS, command_modules
from studio.contributions import ModelKind, Param
from studio.plugin_manager import PluginManager
from studio.runtime.openmp import prepare_environment


DEFAULT_DATASETS = {"image": "shapes", "audio": "sine_tones", "paired": "heads"}


def _param_type(param: Param):
    if isinstance(param.default, bool):
        return lambda text: text.lower() in ("1", "true", "yes", "on")
    return type(param.default)


def _add_train_parser(commands, catalog: Catalog) -> None:
    train = commands.add_parser("train", help="train a model without a window")
    kinds = train.add_subparsers(dest="kind", metavar="KIND", required=True)
    for kind in catalog.model_kinds.values():
        _add_kind_parser(kinds, kind, catalog)


def _add_kind_parser(kinds, kind: ModelKind, catalog: Catalog) -> None:
    p = kinds.add_parser(kind.name, help=kind.title, description=kind.description)
    datasets = sorted(name for name, spec in catalog.datasets.items() if spec.modality == kind.modality)
    default = DEFAULT_DATASETS.get(kind.modality)
    p.add_argument("--dataset", default=default if default in datasets else None, choices=datasets,
                   help=f"built-in or plugin {kind.modality} dataset")
    p.add_argument("--data-path", help="the folder, for a folder dataset")
    if kind.modality != "audio":  # images, or image pairs
        p.add_argument("--size", type=int, default=32, choices=(32, 64), help="image size in pixels")
        p.add_argument("--channels", type=int, choices=(1, 3), help="1 grayscale, 3 RGB (default: the data's own)")
    else:
        p.add_argument("--sample-rate", type=int, default=RunSetup.sample_rate,
                       help=f"clips are resampled to this rate in Hz (default {RunSetup.sample_rate})")
        p.add_argument("--duration", type=float, help="clip length in seconds (default: the dataset's own)")
    p.add_argument("--steps", type=int, default=1000, help="train until this many steps in total")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--out", type=Path, help="run folder (default: a new one under the studio's data folder)")
    p.add_argument("--resume", type=Path, metavar="CHECKPOINT", help="continue the run saved in CHECKPOINT")
    p.add_argument("--sample-every", type=int, default=100, metavar="N")
    p.add_argument("--checkpoint-every", type=int, default=500, metavar="N")
    p.add_argument("--device", help="cuda, cuda:1, mps or cpu (default: the best available)")
    group = p.add_argument_group(f"{kind.title} parameters")
    for key, param in kind.params.items():
        group.add_argument(
            f"--{key.replace('_', '-')}", dest=f"param_{key}", type=_param_type(param),
            default=None, choices=param.choices, metavar=type(param.default).__name__.upper(),
            help=f"{param.help} (default {param.default})",
        )


def build_parser(catalog: Catalog) -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="latent-studio", description=__doc__.splitlines()[0])
    parser.add_argument("--version", action="version", version=f"latent-studio {__version__}")
    commands = parser.add_subparsers(dest="command")
    gui = commands.add_parser("gui", help="open the studio (the default)")
    gui.add_argument("--device", help="cuda, cuda:1, mps or cpu (default: the best available)")
    gui.add_argument("--reset-layout", action="store_true", help="forget the saved window layout")
    gui.add_argument("--session", metavar="FILE", help="open this session file (File > Save session) at launch")
    _add_train_parser(commands, catalog)
    commands.add_parser("plugins", help="list plugins and what they contribute")
    for module in command_modules().values():
        module.add_parser(commands)
    return parser


def main(argv: list[str] | None = None) -> int:
    prepare_environment()  # before anything loads torch: plugins may import it
    argv = sys.argv[1:] if argv is None else argv
    plugins = PluginManager()
    plugins.discover()
    catalog = Catalog.from_plugins(plugins)
    args = build_parser(catalog).parse_args(argv)
    if args.command in (None, "gui"):
        from studio.app import run_gui

        return run_gui(getattr(args, "device", None), getattr(args, "reset_layout", False),
                       getattr(args, "session", None))
    if args.command == "plugins":
        return list_plugins(plugins)
    if args.command in COMMANDS:
        return command_modules()[args.command].run(args, catalog)
    args.command_line = ["latent-studio", *argv]
    return train(args, catalog)


def list_plugins(plugins: PluginManager) -> int:
    """Every plugin found: whether it loaded, where it came from, and what it contributes."""
    found = _contributions(plugins)  # calls the hooks first: a plugin that raises is disabled now
    problems: dict[str, list] = {}
    for problem in plugins.problems:
        problems.setdefault(problem.plugin, []).append(problem)
    loaded = set(plugins.plugin_names)
    for name in sorted(loaded | set(problems) | set(plugins.skipped)):
        if name in loaded:
            print(f"{name}  loaded")
        for problem in problems.get(name, []):
            print(f"{name}  DISABLED ({problem.stage}): {problem.message}")
        if name in plugins.skipped:
            print(f"{name}  not loaded (allow/deny list)")
        origin = plugins.origin(name)
        if origin is not None:
            print(f"    from: {origin}")
            if origin.location:
                print(f"    file: {origin.location}")
        for label, items in found.get(name, {}).items():
            print(f"    {label}: {', '.join(items)}")
    return 1 if plugins.problems else 0


def _contributions(plugins: PluginManager) -> dict[str, dict[str, list[str]]]:
    """plugin -> {"panels": [ids], "model kinds": [names], ...}"""
    hooks = {
        "panels": "register_panels",
        "model kinds": "register_model_kinds",
        "datasets": "register_datasets",
        "menu actions": "register_menu_actions",
        "drop handlers": "register_drop_handlers",
    }
    found: dict[str, dict[str, list[str]]] = {}
    for label, hook in hooks.items():
        for c in plugins.call(hook):
            item = c.item
            name = getattr(item, "id", None) or getattr(item, "name", None) or getattr(item, "text", "?")
            found.setdefault(c.plugin, {}).setdefault(label, []).append(name)
    return found


def train(args: argparse.Namespace, catalog: Catalog) -> int:
    """Train alone, or as one of the processes torchrun started (docs/distributed.md)."""
    from studio.ml import distributed

    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    try:
        group, device = distributed.join(args.device)
    except (ValueError, RuntimeError) as exc:  # a device processes cannot share, no rendezvous
        print(f"error: {exc}", file=sys.stderr)
        return 2
    try:
        code = _train(args, catalog, group, device)
    except BaseException:
        distributed.leave(group, wait_for_others=False)
        raise
    distributed.leave(group)
    return code


def _train(args: argparse.Namespace, catalog: Catalog, group, device) -> int:
    from tqdm import tqdm

    from studio.ml.training.run import NonFiniteLoss

    say = print if group.is_main else _quiet  # rank 0 speaks for the run; the others only report errors
    rank = f"rank {group.rank}: " if group.distributed else ""
    try:
        run = _prepare_run(args, catalog, device, group, say)
    except (ValueError, KeyError, OSError) as exc:  # bad data, checkpoint, device or parameter
        print(f"{rank}error: {exc}", file=sys.stderr)
        return 2
    trainer = run.trainer
    processes = f" x {group.world_size} processes ({group.backend})" if group.distributed else ""
    say(f"training {trainer.kind} on {run.dataset_info['name']} ({data_summary(run.dataset_info)}) on {device}"
        f"{processes} -> {run.out_dir}")
    run.initial_samples()
    bar = tqdm(total=args.steps, initial=trainer.steps_done, unit="step", dynamic_ncols=True,
               disable=not group.is_main)
    try:
        while not run.done:
            report = run.advance()
            bar.update(1)
            bar.set_postfix({k: f"{v:.3f}" for k, v in report.losses.items() if k.startswith("loss")}, refresh=False)
    except NonFiniteLoss as exc:
        bar.close()
        run.close(save=False)
        say(f"stopped: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        bar.close()
        path = run.close(save=True)
        say(f"interrupted; checkpoint saved to {path}", file=sys.stderr)
        return 130
    except Exception as exc:
        bar.close()
        run.close(save=False, failure=f"{type(exc).__name__}: {exc}")
        raise
    bar.close()
    path = run.close(save=True)
    say(f"done: {path}\nmetrics: {run.metrics_path}\nsamples: {run.samples_dir}")
    return 0


def _quiet(*args, **kwargs) -> None:
    pass


def _prepare_run(args: argparse.Namespace, catalog: Catalog, device, group, say):
    from studio.ml.training.run import RunSettings, TrainingRun

    if args.resume:
        trainer, dataset, setup = catalog.restore(args.resume, device)
        out_dir = args.out or args.resume.parent
    else:
        config = {k[len("param_"):]: v for k, v in vars(args).items() if k.startswith("param_") and v is not None}
        setup = RunSetup(args.kind, args.dataset, args.data_path, getattr(args, "size", 32),
                         getattr(args, "channels", None), args.seed, config,
                         getattr(args, "sample_rate", RunSetup.sample_rate), getattr(args, "duration", None))
        trainer, dataset = catalog.build_trainer(setup, device)
        out_dir = args.out or paths.new_run_dir(args.kind, args.dataset)
    if group.distributed:
        if not hasattr(trainer, "distribute"):
            raise ValueError(f"model kind {trainer.kind!r} cannot train in several processes: its trainer has no "
                             "distribute() (see docs/distributed.md)")
        trainer.distribute(group)
    for path, reason in dataset.skipped:
        say(f"skipped {path}: {reason}", file=sys.stderr)
    settings = RunSettings(Path(out_dir), args.steps, args.sample_every, args.checkpoint_every)
    return TrainingRun(trainer, settings, setup.dataset_info(dataset), group, getattr(args, "command_line", None))


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
