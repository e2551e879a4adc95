"""From lavaan model syntax to the matrix patterns of a two-level latent variable model.

Two dialects, told apart by ``level:`` blocks (see
:mod:`psychonetrics.families.ml_lvm.syntax.parser` for the grammar):

Without level blocks (psychonetrics' ``ml_lvm``)
    The structure holds on both levels, with one loading matrix ``lambda``
    shared by them: ``F =~ y1 + y2`` loads on both levels, ``F2 ~ F1``
    regresses on both, ``F1 ~~ F2`` frees that latent covariance on both
    (and ``0*F2`` fixes it), ``y1 ~~ y2`` a residual covariance on both,
    ``y ~ 1`` sets an intercept.  A label ties every element it is written
    on (so a labelled regression is equal across levels).  Identification
    is psychonetrics' (``identify``, ``identification=``).

With ``level: 1`` / ``level: 2`` blocks (lavaan's two-level SEM)
    Each level has its own variables, latent variables, loadings,
    regressions and (residual) covariances.  lavaan's rules apply:

    * a variable named only on level 1 is within-only, only on level 2
      cluster-level;
    * the first indicator of every factor has its loading fixed at 1 unless
      it carries a modifier (``NA*`` frees it);
    * an observed variable in a regression on a level (as outcome or
      predictor), or in a covariance with a latent variable, is a latent
      variable of that level ("phantom": unit loading, no residual), its
      loadings on factors become regressions of the phantom on them;
    * variances of every latent and observed variable are free, and so are
      the covariances among exogenous latent variables (not regressed on
      anything), among the outcomes of regressions that are not themselves
      predictors, and among exogenous observed covariates; residual
      covariances are otherwise 0 unless written;
    * latent means are 0; the means of variables measured on both levels
      are level-2 intercepts (their level-1 intercepts are 0), within-only
      and cluster-level variables have their own;
    * a factor with a single indicator gets that indicator's residual
      variance fixed at 0;
    * observed covariates (predictors only) are "exogenous": with
      ``fixed_x`` their variances, covariances and means are fixed at their
      sample values (see :mod:`psychonetrics.families.ml_lvm.exogenous`).

Labels (``a*y2``) make every element with that label one parameter, across
levels and groups; a number fixes an element (``0.5*y2``), ``NA*`` frees
one, ``start(v)*`` gives a start value.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import numpy as np

from ...._arg import preview
from ....exceptions import ModelSyntaxError
from ....partable.patterns import Pattern
from .parser import ModelSyntax, Statement, Term

if TYPE_CHECKING:
    from ...base import Block

LEVELS = ("within", "between")


@dataclass
class Grid:
    """A matrix pattern under construction: codes (0 fixed, 1 free, > 1 label), fixed values, start values,
    and which elements a statement wrote (``explicit``)."""

    codes: np.ndarray
    fixed: np.ndarray
    start: np.ndarray
    explicit: np.ndarray

    @classmethod
    def zeros(cls, rows: int, cols: int) -> "Grid":
        return cls(np.zeros((rows, cols), dtype=np.int64), np.zeros((rows, cols)), np.full((rows, cols), np.nan),
                   np.zeros((rows, cols), dtype=bool))

    def pattern(self) -> Pattern:
        return Pattern(self.codes.copy(), self.fixed.copy())


@dataclass(frozen=True)
class CompiledModel:
    """What the syntax determines of a model.

    Attributes
    ----------
    observed : tuple of str
        The model's observed variables, in the order of ``data_order``.
    within_only, between_only : tuple of str
        Variables named only on level 1, and only on level 2.
    shared : bool
        Loadings shared by both levels (no level blocks).
    latents, phantoms : dict of level -> tuple of str
        Latent variables of each level (phantoms included), and which of them stand for observed variables.
    patterns : dict of matrix name -> Pattern
        Complete patterns of the loadings, regressions, intercepts and latent
        means (codes with labels, fixed values).
    blocks : dict of block name -> Grid
        The covariance structure of every block (``zeta_within``, ...), as
        covariances: placed in each block's own parameterization by
        :func:`block_patterns`.
    starts : dict of matrix name -> array
        Start values the syntax gives (NaN elsewhere).
    exogenous : dict of level -> tuple of str
        Observed covariates of each level (predictors in regressions only), lavaan's ``ov.x``.
    identify : bool
        Whether the family's identification rules still apply (only without level blocks).
    """

    observed: tuple[str, ...]
    within_only: tuple[str, ...]
    between_only: tuple[str, ...]
    shared: bool
    latents: dict[str, tuple[str, ...]]
    phantoms: dict[str, tuple[str, ...]]
    patterns: dict[str, Pattern]
    blocks: dict[str, Grid]
    starts: dict[str, np.ndarray] = field(default_factory=dict)
    exogenous: dict[str, tuple[str, ...]] = field(default_factory=dict)
    identify: bool = True


class _Labels:
    """String labels -> integer pattern codes (2, 3, ...), one code per label in the whole model."""

    def __init__(self) -> None:
        self.codes: dict[str, int] = {}

    def code(self, label: str) -> int:
        return self.codes.setdefault(label, len(self.codes) + 2)


def _error(statement: Statement, message: str) -> ModelSyntaxError:
    return ModelSyntaxError(f"line {statement.line} ({statement.text!r}): {message}")


def _set(grid: Grid, r: int, c: int, term: Term, labels: _Labels, *, default_free: bool = True,
         symmetric: bool = False) -> None:
    """Apply a term's modifiers to element (r, c) (and its mirror)."""
    if term.fixed is not None:
        code, value = 0, float(term.fixed)
    elif term.label is not None:
        code, value = labels.code(term.label), 0.0
    elif term.free or default_free:
        code, value = 1, 0.0
    else:
        code, value = 0, 0.0
    cells = [(r, c), (c, r)] if symmetric else [(r, c)]
    for a, b in cells:
        grid.codes[a, b] = code
        grid.fixed[a, b] = value
        grid.explicit[a, b] = True
        if term.start is not None:
            grid.start[a, b] = term.start


def compile_syntax(syntax: ModelSyntax, *, data_order: Sequence[str] | None = None) -> CompiledModel:
    """Compile parsed statements (see the module docstring for the rules of both dialects).

    Parameters
    ----------
    syntax : ModelSyntax
        From :func:`psychonetrics.families.ml_lvm.syntax.parser.parse_syntax`.
    data_order : sequence of str, optional
        Column order of the data: the observed variables follow it (else
        their order of first appearance).

    Raises
    ------
    ModelSyntaxError
        A statement that cannot be compiled (naming its line), or a variable
        that is neither in the data nor a latent variable.
    """
    _check_loadings(syntax.statements)
    if syntax.has_levels:
        return _LevelCompiler(syntax, data_order).compile()
    return _compile_shared(syntax, data_order)


def _check_loadings(statements: Sequence[Statement]) -> None:
    """Every factor needs an indicator whose loading is not fixed at 0."""
    first: dict[tuple[str | None, str], Statement] = {}
    loaded: set[tuple[str | None, str]] = set()
    for s in statements:
        if s.op != "=~":
            continue
        key = (s.level, s.lhs)
        first.setdefault(key, s)
        if any(t.fixed != 0.0 for t in s.terms):
            loaded.add(key)
    for key, s in first.items():
        if key not in loaded:
            raise _error(s, f"factor {s.lhs!r} has no nonzero loading (every indicator is fixed at 0)")


# --------------------------------------------------------------------------- shared dialect
def _latent_names(statements: Sequence[Statement]) -> dict[str, Statement]:
    out: dict[str, Statement] = {}
    for s in statements:
        if s.op == "=~":
            out.setdefault(s.lhs, s)
    return out


def _observed_order(names: dict[str, None], data_order: Sequence[str] | None, statements: Sequence[Statement],
                    latents: dict[str, Statement]) -> tuple[str, ...]:
    if data_order is None:
        return tuple(names)
    known = set(data_order)
    for s in statements:
        for name in (s.lhs, *(t.name for t in s.terms)):
            if name in names and name not in known:
                raise _error(s, f"{name!r} is neither a variable of the data nor a latent variable defined by "
                                f"'=~' (data columns: {preview(data_order)})")
    return tuple(v for v in data_order if v in names)


def _check_written_once(statements: Sequence[Statement]) -> None:
    """No element is written twice (``F =~ y1`` on two lines)."""
    seen: dict[tuple[str, str, str], int] = {}
    for s in statements:
        for term in s.terms:
            key = (s.lhs, s.op, term.name)
            if key in seen:
                raise _error(s, f"'{s.lhs} {s.op} {term.name}' is written twice (first on line {seen[key]})")
            seen[key] = s.line


@dataclass
class _SharedGrids:
    """The patterns of the shared dialect under construction: one loading matrix and intercept vector,
    per level the regressions (``betas``), latent (``zetas``) and residual (``epsilons``) covariances."""

    row: dict[str, int]  # observed variable -> row of lambda and epsilon
    col: dict[str, int]  # latent variable -> column of lambda, row and column of beta and zeta
    lam: Grid
    nu: Grid
    betas: dict[str, Grid]
    zetas: dict[str, Grid]
    epsilons: dict[str, Grid]

    @classmethod
    def start(cls, observed: tuple[str, ...], latents: tuple[str, ...]) -> "_SharedGrids":
        """Free intercepts, latent covariances and residual variances; everything else 0."""
        p, m = len(observed), len(latents)
        grids = cls(row={v: k for k, v in enumerate(observed)}, col={v: k for k, v in enumerate(latents)},
                    lam=Grid.zeros(p, m), nu=Grid.zeros(p, 1), betas={lv: Grid.zeros(m, m) for lv in LEVELS},
                    zetas={lv: Grid.zeros(m, m) for lv in LEVELS}, epsilons={lv: Grid.zeros(p, p) for lv in LEVELS})
        grids.nu.codes[:] = 1
        for zeta in grids.zetas.values():
            zeta.codes[:] = 1  # latent covariances free, unless regressions say otherwise
        for eps in grids.epsilons.values():
            np.fill_diagonal(eps.codes, 1)
        return grids


def _shared_observed(statements: Sequence[Statement], latent_at: dict[str, Statement],
                     data_order: Sequence[str] | None) -> tuple[str, ...]:
    """The observed variables: every name that is not a latent variable, in the order of the data."""
    names: dict[str, None] = {}
    for s in statements:
        for name in (s.lhs, *(t.name for t in s.terms)):
            if name not in latent_at and name != "1":
                names.setdefault(name, None)
    observed = _observed_order(names, data_order, statements, latent_at)
    for name, s in latent_at.items():
        if data_order is not None and name in data_order:
            raise _error(s, f"factor name {name!r} is also the name of an observed variable")
    return observed


def _shared_loadings(grids: _SharedGrids, s: Statement, latent_at: dict[str, Statement], labels: _Labels) -> None:
    for term in s.terms:
        if term.name in latent_at:
            raise _error(s, f"{term.name!r} is a factor and an indicator: higher-order factors need "
                            "level-specific syntax (level: blocks)")
        if term.fixed == 0.0:
            continue
        _set(grids.lam, grids.row[term.name], grids.col[s.lhs], term, labels)


def _shared_regressions(grids: _SharedGrids, s: Statement, latent_at: dict[str, Statement],
                        labels: _Labels) -> None:
    if s.lhs not in latent_at or any(t.name not in latent_at for t in s.terms):
        bad = s.lhs if s.lhs not in latent_at else next(t.name for t in s.terms if t.name not in latent_at)
        raise _error(s, f"{bad!r} is an observed variable: regressions on observed variables need "
                        "level-specific syntax (level: 1 / level: 2 blocks)")
    for term in s.terms:
        if term.name == s.lhs:
            raise _error(s, f"latent {s.lhs!r} cannot be regressed on itself")
        for beta in grids.betas.values():
            _set(beta, grids.col[s.lhs], grids.col[term.name], term, labels)


def _shared_covariances(grids: _SharedGrids, s: Statement, latent_at: dict[str, Statement],
                        labels: _Labels) -> None:
    for term in s.terms:
        pair = (s.lhs, term.name)
        if all(v in latent_at for v in pair):
            for zeta in grids.zetas.values():
                _set(zeta, grids.col[pair[0]], grids.col[pair[1]], term, labels, symmetric=True)
        elif not any(v in latent_at for v in pair):
            for eps in grids.epsilons.values():
                _set(eps, grids.row[pair[0]], grids.row[pair[1]], term, labels, symmetric=True)
        else:
            raise _error(s, "a covariance between a latent and an observed variable needs "
                            "level-specific syntax (level: blocks)")


def _shared_intercept(grids: _SharedGrids, s: Statement, latent_at: dict[str, Statement], labels: _Labels) -> None:
    if s.lhs in latent_at:
        raise _error(s, "latent means are set by the identification (free in later groups with equal "
                        "intercepts); an intercept statement needs an observed variable")
    _set(grids.nu, grids.row[s.lhs], 0, s.terms[0], labels)


def _uncorrelate_regressed(grids: _SharedGrids, statements: Sequence[Statement], latents: tuple[str, ...]) -> None:
    """As lavaan: the residual of a regressed latent is uncorrelated with the other latents, unless written."""
    regressed = {s.lhs for s in statements if s.op == "~"}
    written = {frozenset((s.lhs, t.name)) for s in statements if s.op == "~~" for t in s.terms}
    col = grids.col
    for zeta in grids.zetas.values():
        for a in regressed:
            for b in latents:
                if a != b and frozenset((a, b)) not in written:
                    zeta.codes[col[a], col[b]] = zeta.codes[col[b], col[a]] = 0
                    zeta.fixed[col[a], col[b]] = zeta.fixed[col[b], col[a]] = 0.0


_SHARED_STATEMENTS = {"=~": _shared_loadings, "~": _shared_regressions, "~~": _shared_covariances,
                      "~1": _shared_intercept}


def _compile_shared(syntax: ModelSyntax, data_order: Sequence[str] | None) -> CompiledModel:
    statements = syntax.statements
    latent_at = _latent_names(statements)
    if not latent_at:
        raise ModelSyntaxError(f"line {statements[0].line} ({statements[0].text!r}): no factor is defined: add at "
                               "least one '=~' statement (or use ml_ggm / ml_varcov for a model without latents)")
    latents = tuple(latent_at)
    observed = _shared_observed(statements, latent_at, data_order)
    grids = _SharedGrids.start(observed, latents)
    labels = _Labels()
    _check_written_once(statements)
    for s in statements:
        _SHARED_STATEMENTS[s.op](grids, s, latent_at, labels)
    _uncorrelate_regressed(grids, statements, latents)
    patterns: dict[str, Pattern] = {"lambda": grids.lam.pattern(), "nu": grids.nu.pattern()}
    blocks: dict[str, Grid] = {}
    for lv in LEVELS:
        patterns[f"beta_{lv}"] = grids.betas[lv].pattern()
        blocks[f"zeta_{lv}"] = grids.zetas[lv]
        blocks[f"epsilon_{lv}"] = grids.epsilons[lv]
    starts = {"lambda": grids.lam.start}
    return CompiledModel(observed, (), (), True, {lv: latents for lv in LEVELS}, {lv: () for lv in LEVELS},
                         patterns, blocks, starts, {}, identify=True)


# ---------------------------------------------------------------------------- level dialect
class _LevelCompiler:
    """lavaan's rules for ``level:`` blocks (see the module docstring)."""

    def __init__(self, syntax: ModelSyntax, data_order: Sequence[str] | None) -> None:
        self.statements = syntax.statements
        self.data_order = data_order
        self.labels = _Labels()

    def compile(self) -> CompiledModel:
        by_level = {lv: [s for s in self.statements if s.level == lv] for lv in LEVELS}
        for lv in LEVELS:
            if not by_level[lv]:
                raise ModelSyntaxError(f"`syntax`: the {lv} level (level: {1 if lv == 'within' else 2}) has no "
                                       "statement; a two-level model needs both")
        latents = {lv: _latent_names(by_level[lv]) for lv in LEVELS}
        all_latents = {name: s for lv in LEVELS for name, s in latents[lv].items()}
        named: dict[str, dict[str, None]] = {lv: {} for lv in LEVELS}
        for lv in LEVELS:
            for s in by_level[lv]:
                for name in (s.lhs, *(t.name for t in s.terms)):
                    if name not in latents[lv] and name != "1":
                        if name in all_latents:
                            raise _error(s, f"{name!r} is a latent variable of the other level; each level "
                                            "defines its own latent variables (use another name)")
                        named[lv].setdefault(name, None)
        order = {**named["within"], **named["between"]}
        observed = _observed_order(order, self.data_order, self.statements, all_latents)
        for name, s in all_latents.items():
            if name in order or (self.data_order is not None and name in self.data_order):
                raise _error(s, f"factor name {name!r} is also the name of an observed variable")
        within_only = tuple(v for v in observed if v in named["within"] and v not in named["between"])
        between_only = tuple(v for v in observed if v in named["between"] and v not in named["within"])
        level_vars = {lv: tuple(v for v in observed if v in named[lv]) for lv in LEVELS}
        patterns: dict[str, Pattern] = {}
        blocks: dict[str, Grid] = {}
        starts: dict[str, np.ndarray] = {}
        out_latents, out_phantoms, exogenous = {}, {}, {}
        for lv in LEVELS:
            result = self._level(lv, by_level[lv], tuple(latents[lv]), level_vars[lv], within_only)
            pats, grids, st, lat, ph, exo = result
            patterns.update(pats)
            blocks.update(grids)
            starts.update(st)
            out_latents[lv], out_phantoms[lv], exogenous[lv] = lat, ph, exo
        return CompiledModel(observed, within_only, between_only, False, out_latents, out_phantoms, patterns,
                             blocks, starts, exogenous, identify=False)

    def _level(self, lv: str, statements: list[Statement], latents: tuple[str, ...], variables: tuple[str, ...],
               within_only: tuple[str, ...]):  # noqa: ANN202
        labels = self.labels
        phantom = _phantoms(statements, latents)
        all_lat = latents + tuple(phantom)
        grids = _LevelGrids.zeros(variables, all_lat)
        for v in phantom:  # phantoms: unit loading, no residual, mean carried by the latent
            grids.lam.fixed[grids.row[v], grids.col[v]] = 1.0
        outcomes = {s.lhs for s in statements if s.op == "~"}
        predictors = {t.name for s in statements if s.op == "~" for t in s.terms}
        indicators = {t.name for s in statements if s.op == "=~" for t in s.terms}
        exogenous_obs = tuple(v for v in phantom if v in predictors and v not in outcomes and v not in indicators)
        _check_written_once(statements)
        _level_loadings(grids, statements, latents, phantom, labels)
        _level_regressions(grids, statements, labels)
        # variances: every latent and phantom (zeta), every other observed variable (epsilon)
        np.fill_diagonal(grids.zeta.codes, 1)
        for v in variables:
            if v not in phantom:
                grids.eps.codes[grids.row[v], grids.row[v]] = 1
        # default covariances: exogenous latents, outcomes that predict nothing, exogenous covariates
        exogenous_lat = [v for v in latents if v not in outcomes]
        pure_outcomes = [v for v in all_lat if v in outcomes and v not in predictors]
        for group in (exogenous_lat, pure_outcomes, list(exogenous_obs)):
            _free_covariances(grids.zeta, [grids.col[v] for v in group])
        _fix_single_indicators(grids, statements, phantom)
        _level_covariances(grids, statements, labels)
        _level_intercepts(grids, statements, lv=lv, latents=latents, variables=variables, phantom=phantom,
                          within_only=within_only, labels=labels)
        pats = {f"lambda_{lv}": grids.lam.pattern(), f"beta_{lv}": grids.beta.pattern(),
                f"nu_{lv}": grids.nu.pattern(), f"nu_eta_{lv}": grids.alpha.pattern()}
        blocks = {f"zeta_{lv}": grids.zeta, f"epsilon_{lv}": grids.eps}
        starts = {f"lambda_{lv}": grids.lam.start, f"beta_{lv}": grids.beta.start}
        return pats, blocks, starts, all_lat, tuple(phantom), exogenous_obs


@dataclass
class _LevelGrids:
    """The patterns of one level under construction."""

    row: dict[str, int]  # observed variable of the level -> row of lambda, epsilon and nu
    col: dict[str, int]  # latent or phantom -> column of lambda, row and column of beta and zeta, row of alpha
    lam: Grid
    beta: Grid
    zeta: Grid
    eps: Grid
    nu: Grid
    alpha: Grid  # latent means (nu_eta)

    @classmethod
    def zeros(cls, variables: tuple[str, ...], latents: tuple[str, ...]) -> "_LevelGrids":
        p, m = len(variables), len(latents)
        return cls(row={v: k for k, v in enumerate(variables)}, col={v: k for k, v in enumerate(latents)},
                   lam=Grid.zeros(p, m), beta=Grid.zeros(m, m), zeta=Grid.zeros(m, m), eps=Grid.zeros(p, p),
                   nu=Grid.zeros(p, 1), alpha=Grid.zeros(m, 1))


def _phantoms(statements: Sequence[Statement], latents: tuple[str, ...]) -> dict[str, None]:
    """Observed variables that become latent on this level: in a regression, or covarying with a latent
    (or with another phantom), in order of appearance."""
    phantom: dict[str, None] = {}
    for s in statements:
        if s.op == "~":
            for name in (s.lhs, *(t.name for t in s.terms)):
                if name not in latents:
                    phantom.setdefault(name, None)
    changed = True
    while changed:  # covariances with latents or phantoms pull observed variables in
        changed = False
        for s in statements:
            if s.op != "~~":
                continue
            for t in s.terms:
                pair = (s.lhs, t.name)
                if any(v in latents or v in phantom for v in pair):
                    for v in pair:
                        if v not in latents and v not in phantom:
                            phantom[v] = None
                            changed = True
    return phantom


def _level_loadings(grids: _LevelGrids, statements: Sequence[Statement], latents: tuple[str, ...],
                    phantom: dict[str, None], labels: _Labels) -> None:
    """Loadings (on phantoms and factors: regressions of them on the factor); the first one of every
    factor fixed at 1 (lavaan's marker) unless it carries a modifier."""
    first: set[str] = set()
    for s in statements:
        if s.op != "=~":
            continue
        for term in s.terms:
            if term.name in latents or term.name in phantom:  # a higher-order factor, or a phantom
                grid, r, c = grids.beta, grids.col[term.name], grids.col[s.lhs]
            else:
                grid, r, c = grids.lam, grids.row[term.name], grids.col[s.lhs]
            if s.lhs not in first:
                first.add(s.lhs)
                if term.fixed is None and not term.free:
                    grid.fixed[r, c] = 1.0  # lavaan's marker: the first indicator's loading
                    if term.label is not None:
                        grid.codes[r, c] = 0
                    continue
            _set(grid, r, c, term, labels)


def _level_regressions(grids: _LevelGrids, statements: Sequence[Statement], labels: _Labels) -> None:
    for s in statements:
        if s.op == "~":
            for term in s.terms:
                if term.name == s.lhs:
                    raise _error(s, f"{s.lhs!r} cannot be regressed on itself")
                _set(grids.beta, grids.col[s.lhs], grids.col[term.name], term, labels)


def _free_covariances(grid: Grid, index: Sequence[int]) -> None:
    """Free the covariances among ``index`` (off the diagonal)."""
    for a in index:
        for b in index:
            if a != b:
                grid.codes[a, b] = 1


def _fix_single_indicators(grids: _LevelGrids, statements: Sequence[Statement], phantom: dict[str, None]) -> None:
    """A factor with a single indicator (loading on nothing else) fixes its residual variance at 0
    (lavaan's auto.fix.single)."""
    items_of: dict[str, list[str]] = {}
    for s in statements:
        if s.op == "=~":
            items_of.setdefault(s.lhs, []).extend(t.name for t in s.terms)
    loads = [t.name for s in statements if s.op == "=~" for t in s.terms]
    for items in items_of.values():
        if len(items) == 1 and loads.count(items[0]) == 1 and items[0] in grids.row and items[0] not in phantom:
            grids.eps.codes[grids.row[items[0]], grids.row[items[0]]] = 0


def _level_covariances(grids: _LevelGrids, statements: Sequence[Statement], labels: _Labels) -> None:
    """Written covariances and variances: among latents and phantoms (zeta), else residual (epsilon)."""
    for s in statements:
        if s.op != "~~":
            continue
        for term in s.terms:
            a, b = s.lhs, term.name
            if a in grids.col and b in grids.col:
                _set(grids.zeta, grids.col[a], grids.col[b], term, labels, symmetric=True)
            elif a in grids.row and b in grids.row:
                _set(grids.eps, grids.row[a], grids.row[b], term, labels, symmetric=True)
            else:  # pragma: no cover - the phantom closure makes this impossible
                raise _error(s, f"cannot place the covariance of {a!r} and {b!r}")


def _level_intercepts(grids: _LevelGrids, statements: Sequence[Statement], *, lv: str, latents: tuple[str, ...],
                      variables: tuple[str, ...], phantom: dict[str, None], within_only: tuple[str, ...],
                      labels: _Labels) -> None:
    """Intercepts: the means of variables on both levels live on level 2; within-only and cluster-level
    variables have their own; written intercepts (``y ~ 1``) of latents and observed variables."""
    for v in variables:
        free = lv == "between" or v in within_only
        if v in phantom:
            grids.alpha.codes[grids.col[v], 0] = int(free)
        else:
            grids.nu.codes[grids.row[v], 0] = int(free)
    for s in statements:
        if s.op != "~1":
            continue
        term = s.terms[0]
        if s.lhs in latents:
            _set(grids.alpha, grids.col[s.lhs], 0, term, labels)
        elif lv == "within" and s.lhs not in within_only and term.fixed is None:
            raise _error(s, f"{s.lhs!r} is measured on both levels: its mean is a level-2 intercept (write "
                            "the intercept on level 2)")
        elif s.lhs in phantom:
            _set(grids.alpha, grids.col[s.lhs], 0, term, labels)
        else:
            _set(grids.nu, grids.row[s.lhs], 0, term, labels)


def block_patterns(block: "Block", grid: Grid, defaults: dict[str, object]) -> dict[str, Pattern]:
    """The patterns of a covariance block's own matrices from its covariance structure ``grid``.

    A ``cov`` block takes the structure as it is.  Other parameterizations
    keep their defaults (a full network, a diagonal precision...) and take
    what the syntax wrote: ``a ~~ a`` sets the variance-carrying matrix
    (``delta``, ``SD``, ``kappa``, ``lowertri``), ``a ~~ b`` the element of
    the off-diagonal one (``omega``, ``rho``, ``kappa``, ``lowertri``).
    """
    from ....partable.patterns import parse_pattern

    specs = {spec.kind: spec for spec in block.specs()}
    if block.ctype.name == "cov":
        return {block.matrix_name("sigma"): grid.pattern()}
    out = {}
    for kind, spec in specs.items():
        out[kind] = parse_pattern(defaults[spec.name], spec, argument=spec.name)
    variance = block.ctype.variance_kind
    off = next((k for k in block.ctype.kinds if k != variance), variance)
    rows, cols = np.nonzero(grid.explicit)
    for r, c in zip(rows.tolist(), cols.tolist()):
        kind = variance if r == c else off
        if kind == "lowertri" and r < c:
            r, c = c, r
        pattern = out[kind]
        pattern.codes[r, c] = grid.codes[r, c]
        pattern.fixed[r, c] = grid.fixed[r, c]
        if specs[kind].storage == "symmetric":
            pattern.codes[c, r] = grid.codes[r, c]
            pattern.fixed[c, r] = grid.fixed[r, c]
    return {block.matrix_name(kind): pattern for kind, pattern in out.items()}
