"""The plugin contract of latent-studio.

A plugin is a module (or object) registered in the ``latent_studio`` entry-point group, e.g.::

    [project.entry-points.latent_studio]
    my_panel = "my_package.studio_plugin"

that implements any of the hooks below with ``@studio.hookimpl``. Every hook is optional. The
docstrings here are the API reference; ``docs/plugins.md`` repeats each signature and a test keeps
the two in step.

Keep the entry-point module light: import Qt widgets and torch inside the factories and callbacks,
not at module level, so that discovering plugins stays fast.

A hook that raises disables its plugin (with a message in the status bar and the Plugins menu);
the other plugins keep working.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import pluggy

from studio.contributions import DatasetSpec, DropHandler, MenuAction, ModelKind, PanelSpec

if TYPE_CHECKING:  # pragma: no cover - typing only
    from studio.runtime.studio import Studio

PROJECT_NAME = "latent_studio"

hookspec = pluggy.HookspecMarker(PROJECT_NAME)
hookimpl = pluggy.HookimplMarker(PROJECT_NAME)


@hookspec
def register_panels() -> list[PanelSpec]:
    """Return the dock panels this plugin provides.

    Each :class:`~studio.contributions.PanelSpec` names an ``id`` (unique, used to save the window
    layout), a ``title`` for the dock and the View menu, a default dock ``area`` ("left", "right",
    "top" or "bottom") and a ``factory(studio)`` that returns the panel's ``QWidget``. The factory
    runs on the UI thread when the main window is built.
    """


@hookspec
def register_model_kinds() -> list[ModelKind]:
    """Return the trainable model kinds this plugin provides.

    A :class:`~studio.contributions.ModelKind` has a ``name`` (as in ``latent-studio train NAME``),
    its hyper-parameters as :class:`~studio.contributions.Param` records and a
    ``build_trainer(config, dataset, device, seed)`` that returns a trainer following
    :class:`studio.ml.training.base.Trainer`.
    """


@hookspec
def register_datasets() -> list[DatasetSpec]:
    """Return the image datasets this plugin provides.

    A :class:`~studio.contributions.DatasetSpec` has a ``name`` (as in ``--dataset NAME``) and a
    ``build(size, channels, path, seed)`` that returns a :class:`studio.ml.data.base.ImageDataset`.
    """


@hookspec
def register_menu_actions() -> list[MenuAction]:
    """Return menu entries: :class:`~studio.contributions.MenuAction` with a menu title, the entry's
    text, an optional shortcut and a ``callback(studio)`` run on the UI thread."""


@hookspec
def register_drop_handlers() -> list[DropHandler]:
    """Return handlers for files dropped on the main window.

    A :class:`~studio.contributions.DropHandler` lists the file ``extensions`` it takes and a
    ``handle(studio, paths)`` that receives the matching dropped files on the UI thread. Report a
    bad file by name with ``studio.show_message``; do not raise for it.
    """


@hookspec
def studio_started(studio: Studio) -> None:
    """Called once on the UI thread after the main window and every panel are built."""


@hookspec
def studio_stopping(studio: Studio) -> None:
    """Called once on the UI thread before the main window closes; training is still running."""
