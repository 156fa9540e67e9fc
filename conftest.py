"""pytest entry point of the repository.

The station's plugin (options ``--station-serial``, ``--station-file``, ..., and the fixtures
a plan's steps receive) is registered by the installed package's ``pytest11`` entry point
(``vstation = fixtures.plugin``), so ``pytest --pyargs testplans.eol --station-serial SN``
works from an installed station as from this checkout.
"""
