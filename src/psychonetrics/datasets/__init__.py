"""Example data shipped with the package."""

from __future__ import annotations

from importlib import resources

import pandas as pd


def seed_example() -> pd.DataFrame:
    """The simulated two-level data of psychonetrics' ``ml_lvm`` documentation.

    60 clusters of 10 units, six indicators ``y1``..``y6`` of two factors on
    both levels (R: ``set.seed(2)``; loadings 1, .8, .6 per factor; between
    latent variance .5, within 1; residual variances .3 between, .5 within),
    with the cluster id in ``cluster``.

    Returns
    -------
    pandas.DataFrame
        600 rows; columns ``y1``..``y6`` and ``cluster``.

    Examples
    --------
    >>> import psychonetrics as pn
    >>> data = pn.datasets.seed_example()
    >>> data.shape, data["cluster"].nunique()
    ((600, 7), 60)
    """
    with resources.files(__package__).joinpath("seed_example.csv").open("r") as fh:
        return pd.read_csv(fh)


def demo_twolevel() -> pd.DataFrame:
    """lavaan's ``Demo.twolevel``: the data of its two-level SEM tutorial.

    Simulated data distributed with the R package lavaan (GPL): 2500 units in
    200 clusters (5 to 20 units each). ``y1``..``y6`` are measured on both
    levels, ``x1``..``x3`` are unit-level covariates and ``w1``, ``w2`` are
    cluster-level variables (constant within each cluster).

    Returns
    -------
    pandas.DataFrame
        2500 rows; columns ``y1``..``y6``, ``x1``..``x3``, ``w1``, ``w2`` and ``cluster``.

    Examples
    --------
    >>> import psychonetrics as pn
    >>> data = pn.datasets.demo_twolevel()
    >>> data.shape, data["cluster"].nunique()
    ((2500, 12), 200)
    """
    with resources.files(__package__).joinpath("demo_twolevel.csv.gz").open("rb") as fh:
        return pd.read_csv(fh, compression="gzip")


def lq2002() -> pd.DataFrame:
    """Leadership climate of soldiers in companies: the R package multilevel's ``lq2002``.

    Survey data distributed with the R package multilevel (GPL): 2042 US Army
    soldiers in 49 companies answered eleven leadership items (``LEAD01`` ..
    ``LEAD11``), three task-significance items (``TSIG01`` .. ``TSIG03``) and
    five hostility items (``HOSTIL01`` .. ``HOSTIL05``).  With 19 items and 49
    companies the between level has more saturated parameters (209) than
    clusters, and its correlation matrix is nearly singular: hard data for
    a between-level network.

    Returns
    -------
    pandas.DataFrame
        2042 rows; the 19 items and ``company``.

    Examples
    --------
    >>> import psychonetrics as pn
    >>> data = pn.datasets.lq2002()
    >>> data.shape, data["company"].nunique()
    ((2042, 20), 49)
    """
    with resources.files(__package__).joinpath("lq2002.csv.gz").open("rb") as fh:
        return pd.read_csv(fh, compression="gzip")


def bhr2000() -> pd.DataFrame:
    """Work climate of soldiers in companies: the R package multilevel's ``bhr2000``.

    Survey data distributed with the R package multilevel (GPL): 5400 US Army
    soldiers in 99 companies answered eleven Likert items on their work
    climate (``AF06`` .. ``AS28``: affective, pay and supervision scales).

    Returns
    -------
    pandas.DataFrame
        5400 rows; the 11 items and ``company``.

    Examples
    --------
    >>> import psychonetrics as pn
    >>> data = pn.datasets.bhr2000()
    >>> data.shape, data["company"].nunique()
    ((5400, 12), 99)
    """
    with resources.files(__package__).joinpath("bhr2000.csv.gz").open("rb") as fh:
        return pd.read_csv(fh, compression="gzip")


def esm_lmfa() -> pd.DataFrame:
    """Experience sampling of affect: the R package lmfa's ``ESM``.

    Data distributed with the R package lmfa (GPL >= 3): 100 persons answered
    18 affect items (0-100; ``Interested`` .. ``Listless``) at 34 to 63
    consecutive beeps, with the intensity of a negative event since the last
    beep (``negativeEvent``), an intervention indicator and the hours since
    the previous beep (``deltaT``).  There is no beep column: row order
    within ``id`` is time order.

    Returns
    -------
    pandas.DataFrame
        4776 rows; ``id``, ``deltaT``, ``negativeEvent``, ``intervention`` and the 18 items.

    Examples
    --------
    >>> import psychonetrics as pn
    >>> data = pn.datasets.esm_lmfa()
    >>> data.shape, data["id"].nunique()
    ((4776, 22), 100)
    """
    with resources.files(__package__).joinpath("esm_lmfa.csv.gz").open("rb") as fh:
        return pd.read_csv(fh, compression="gzip")


def esm_news() -> pd.DataFrame:
    """Experience sampling after news exposure: the R package lagnetw's ``news``.

    Data distributed with the R package lagnetw (GPL-3): 53 persons rated
    eight affect items (``Fearful`` .. ``Insecure``) at up to five beeps a
    day (``beepnr``) for ten days (``daynr``); beeps are absent by design and
    by non-response (absent rows), so pairs break at gaps and nights.

    Returns
    -------
    pandas.DataFrame
        654 rows; ``subjnr``, ``daynr``, ``beepnr``, ``gender``, ``age`` and the 8 items.

    Examples
    --------
    >>> import psychonetrics as pn
    >>> data = pn.datasets.esm_news()
    >>> data.shape, data["subjnr"].nunique()
    ((654, 13), 53)
    """
    with resources.files(__package__).joinpath("esm_news.csv.gz").open("rb") as fh:
        return pd.read_csv(fh, compression="gzip")
