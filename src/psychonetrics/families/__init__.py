"""Model families: one package each (its :class:`~.base.Family`, its model functions), listed in
:mod:`.registry`.

* :mod:`.ml_lvm`: two-level latent variable models (``ml_lvm``, ``ml_lnm``, ``ml_rnm``, ``ml_lrnm``).
* :mod:`.ml_varcov`: two-level models of the observed variables (``ml_varcov``, ``ml_ggm``).
* :mod:`.base`: what every family provides; :mod:`.builder`: the pipeline their model functions share.
"""
