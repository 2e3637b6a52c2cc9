"""Finds plugins through entry points and keeps one failing plugin from taking the studio down.

Qt-free (the CLI uses it too). Hooks are called one implementation at a time, so a plugin that
raises is disabled and reported while the results of the others still come back; pluggy's own
call loop would stop at the first exception.
"""

from __future__ import annotations

import importlib.util
import logging
import os
import sys
import traceback
from dataclasses import dataclass, replace
from importlib.metadata import EntryPoint, entry_points
from types import ModuleType
from typing import Any, Iterable

import pluggy

from studio import hookspecs

log = logging.getLogger(__name__)

ALLOW_ENV = "LATENT_STUDIO_PLUGINS"  # comma-separated names: load only these
DENY_ENV = "LATENT_STUDIO_DISABLE_PLUGINS"  # comma-separated names: never load these
TRACE_ENV = "LATENT_STUDIO_TRACE_HOOKS"  # "1": log every hook call and its results


@dataclass(frozen=True)
class PluginProblem:
    plugin: str
    stage: str  # "discovery", a hook name, or "panel <id>"
    message: str
    details: str = ""  # the traceback, for the log and the Plugins menu

    def __str__(self) -> str:
        return f"plugin {self.plugin!r} disabled ({self.stage}): {self.message}"


@dataclass(frozen=True)
class PluginOrigin:
    """Where a plugin came from: an entry point (and the distribution that declares it), or a
    registration by hand (tests, scripts); ``location`` is the file of the plugin's module."""

    entry_point: str | None = None  # the entry point's value, "package.module[:object]"
    distribution: str | None = None  # the declaring distribution's name, if known
    version: str | None = None
    location: str | None = None

    @classmethod
    def of_entry_point(cls, ep: EntryPoint) -> PluginOrigin:
        dist = ep.dist  # None for an entry point made by hand (tests)
        return cls(ep.value, dist.name if dist else None, dist.version if dist else None)

    def __str__(self) -> str:
        if self.entry_point is None:
            return "registered by hand"
        dist = f"{self.distribution} {self.version}" if self.distribution else "an unknown distribution"
        return f"{dist}, entry point {self.entry_point}"


@dataclass(frozen=True)
class Contribution:
    """One item a hook returned, with the plugin it came from."""

    plugin: str
    item: Any


def _names_from_env(var: str) -> set[str] | None:
    raw = os.environ.get(var, "").strip()
    return {name.strip() for name in raw.split(",") if name.strip()} if raw else None


class PluginManager:
    def __init__(self) -> None:
        self._pm = pluggy.PluginManager(hookspecs.PROJECT_NAME)
        self._pm.add_hookspecs(hookspecs)
        self.problems: list[PluginProblem] = []
        self.skipped: list[str] = []  # names filtered out by the allow/deny lists
        self._origins: dict[str, PluginOrigin] = {}
        self._trace = os.environ.get(TRACE_ENV, "") not in ("", "0")

    # -- registration -------------------------------------------------------------------------
    def discover(self, group: str = hookspecs.PROJECT_NAME) -> None:
        """Load every entry point of ``group`` that the allow/deny lists let through."""
        allow, deny = _names_from_env(ALLOW_ENV), _names_from_env(DENY_ENV) or set()
        for ep in sorted(entry_points(group=group), key=lambda ep: ep.name):
            origin = PluginOrigin.of_entry_point(ep)
            if (allow is not None and ep.name not in allow) or ep.name in deny:
                self._origins.setdefault(ep.name, origin)  # not imported, so no location
                self.skipped.append(ep.name)
                continue
            if self._pm.has_plugin(ep.name):
                continue
            try:
                plugin = ep.load()
            except Exception as exc:  # a broken plugin must not stop discovery
                self._origins[ep.name] = replace(origin, location=_spec_location(ep.module))
                self._record(ep.name, "discovery", exc)
                continue
            self.register(plugin, ep.name, origin)

    def register(self, plugin: object, name: str, origin: PluginOrigin | None = None) -> None:
        """Register a plugin object or module; without ``origin`` it counts as registered by hand
        (tests, scripts, embedding)."""
        if not self._pm.has_plugin(name):  # a second plugin of that name is refused below
            self._origins[name] = replace(origin or PluginOrigin(), location=_module_location(plugin))
        try:
            self._pm.register(plugin, name=name)
        except Exception as exc:  # e.g. a hookimpl with an unknown name or bad arguments
            self._record(name, "discovery", exc)

    def disable(self, name: str, stage: str, exc: BaseException) -> PluginProblem:
        """Unregister ``name`` and remember why; returns the problem for the caller to show."""
        problem = self._record(name, stage, exc)
        if self._pm.has_plugin(name):
            self._pm.unregister(name=name)
        return problem

    # -- queries ------------------------------------------------------------------------------
    @property
    def plugin_names(self) -> list[str]:
        return sorted(name for name, _ in self._pm.list_name_plugin())

    def plugin_module(self, name: str) -> object | None:
        return self._pm.get_plugin(name)

    def is_registered(self, plugin: object) -> bool:
        return self._pm.is_registered(plugin)

    def origin(self, name: str) -> PluginOrigin | None:
        """Where plugin ``name`` came from: also for a disabled or skipped one; None if unknown."""
        return self._origins.get(name)

    def call(self, hook_name: str, **kwargs: Any) -> list[Contribution]:
        """Call ``hook_name`` on every plugin, isolating failures.

        List results are flattened (hooks return lists of contributions); None is dropped.
        """
        contributions: list[Contribution] = []
        hook = getattr(self._pm.hook, hook_name)
        for impl in reversed(hook.get_hookimpls()):  # registration order
            name = impl.plugin_name
            try:
                result = impl.function(*(kwargs[arg] for arg in impl.argnames))
            except Exception as exc:
                self.disable(name, hook_name, exc)
                continue
            if self._trace:
                log.info("hook %s -> %s: %r", hook_name, name, result)
            if result is None:
                continue
            items: Iterable[Any] = result if isinstance(result, (list, tuple)) else [result]
            contributions.extend(Contribution(name, item) for item in items)
        return contributions

    def _record(self, name: str, stage: str, exc: BaseException) -> PluginProblem:
        problem = PluginProblem(
            plugin=name,
            stage=stage,
            message=f"{type(exc).__name__}: {exc}",
            details="".join(traceback.format_exception(exc)),
        )
        self.problems.append(problem)
        log.error("%s\n%s", problem, problem.details)
        return problem


def _module_location(plugin: object) -> str | None:
    """The file of a plugin module, or of the module that defines a plugin object's class."""
    module = plugin if isinstance(plugin, ModuleType) else sys.modules.get(type(plugin).__module__)
    return getattr(module, "__file__", None)


def _spec_location(module_name: str) -> str | None:
    """Where a module that failed to import would have come from (None if it cannot be found)."""
    try:
        spec = importlib.util.find_spec(module_name)
    except Exception:  # noqa: BLE001  a parent package that fails to import, a bad name
        return None
    return spec.origin if spec is not None and spec.has_location else None
