"""The registry of model families: what the package's public names, the command line and the guide read.

Adding a family is one package (``families/<name>/``: its :class:`Family`,
its model functions in ``build.py``, its example models in ``examples.py``)
and one :func:`register` call below; the conformance tests then run it.
Entries hold module paths, not modules, so reading the registry imports no
family, and the module itself imports nothing (not even ``dataclasses``):
``import psychonetrics`` stays cheap.
"""

from __future__ import annotations


class Wrapper:
    """One model function of a family.

    Attributes
    ----------
    name : str
        Its public name (``pn.<name>``).
    summary : str
        One line for listings (``--help`` of the command line).
    """

    __slots__ = ("name", "summary")

    def __init__(self, name: str, summary: str) -> None:
        self.name, self.summary = name, summary

    def __repr__(self) -> str:
        return f"Wrapper({self.name!r})"


class FamilyEntry:
    """A registered family.

    Attributes
    ----------
    name : str
        The family's name (``Family.name``).
    module : str
        The module with its model functions, relative to the package (``.families.ml_lvm.build``).
    wrappers : tuple of Wrapper
        Its model functions, the first the family's own.
    syntax : str or None
        The argument that takes model syntax (the command line's ``--model``), if any.
    data_arguments : tuple of str
        The data-layout arguments of its model functions that the command line offers
        (``clusters``; ``idvar``, ``dayvar``, ``beepvar`` for series).
    aliases : dict
        Further public names of wrappers (psychonetrics' spellings).
    examples : str
        ``module:function`` (relative to the package) returning the family's example models
        (:mod:`psychonetrics.families.examples`), a small model of each of its types: the package's
        conformance tests run every one.
    """

    __slots__ = ("name", "module", "wrappers", "syntax", "data_arguments", "aliases", "examples")

    def __init__(self, name: str, module: str, wrappers: tuple[Wrapper, ...], *, examples: str,
                 syntax: str | None = None, data_arguments: tuple[str, ...] = ("clusters",),
                 aliases: dict[str, str] | None = None) -> None:
        self.name, self.module, self.wrappers, self.examples = name, module, tuple(wrappers), examples
        self.syntax, self.data_arguments, self.aliases = syntax, tuple(data_arguments), dict(aliases or {})

    def __repr__(self) -> str:
        return f"FamilyEntry({self.name!r}, {self.module!r})"

    def names(self) -> tuple[str, ...]:
        """Every public name of the family's model functions (aliases included)."""
        return tuple(w.name for w in self.wrappers) + tuple(self.aliases)

    def target(self, name: str) -> str:
        """``module:function`` of the public name ``name``."""
        return f"{self.module}:{self.aliases.get(name, name)}"


FAMILIES: dict[str, FamilyEntry] = {}


def register(entry: FamilyEntry) -> FamilyEntry:
    """Add ``entry`` to :data:`FAMILIES` (its names must be new)."""
    taken = {n for e in FAMILIES.values() for n in e.names()}
    clash = taken & set(entry.names())
    if entry.name in FAMILIES or clash:
        raise ValueError(f"family {entry.name!r}: the name(s) {sorted(clash) or [entry.name]} are registered already.")
    FAMILIES[entry.name] = entry
    return entry


def load(target: str) -> object:
    """The object at ``module:name`` (module relative to the package), imported on demand."""
    from importlib import import_module

    module, name = target.split(":")
    return getattr(import_module(module, __package__.rpartition(".")[0]), name)


def wrappers() -> dict[str, FamilyEntry]:
    """Every public model-function name and the family it builds."""
    return {name: entry for entry in FAMILIES.values() for name in entry.names()}


register(FamilyEntry(
    "ml_lvm", ".families.ml_lvm.build",
    (Wrapper("ml_lvm", "two-level latent variable model (factor and structural models)"),
     Wrapper("ml_lnm", "latent network model: both latent blocks are networks"),
     Wrapper("ml_rnm", "residual network model: both residual blocks are networks"),
     Wrapper("ml_lrnm", "latent and residual network model")),
    syntax="lambda_", examples=".families.ml_lvm.examples:examples"))
register(FamilyEntry(
    "ml_varcov", ".families.ml_varcov.build",
    (Wrapper("ml_varcov", "two-level (co)variance model of the observed variables"),
     Wrapper("ml_ggm", "multilevel Gaussian graphical model: within and between networks")),
    examples=".families.ml_varcov.examples:examples"))
register(FamilyEntry(
    "ml_var", ".families.ml_var.build",
    (Wrapper("ml_var", "multilevel VAR(1) of ESM data: temporal, contemporaneous and between-persons structure"),
     Wrapper("ml_gvar", "multilevel graphical VAR: the three networks")),
    data_arguments=("idvar", "dayvar", "beepvar"), aliases={"ml_var1": "ml_var", "ml_gvar1": "ml_gvar"},
    examples=".families.ml_var.examples:examples"))


__all__ = ["FAMILIES", "FamilyEntry", "Wrapper", "register", "wrappers", "load"]
