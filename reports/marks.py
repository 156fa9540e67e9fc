"""The marks every document of a simulated bench carries, in one place.

A record from a simulated bench (in-process, or served by ``station sim serve`` and named so
by its station file) is no evidence about a real pack; its certificate, clause or RMA report
and any lot report over it say so where a reader cannot miss it: under the title and in
every page footer.
"""

from __future__ import annotations

SIMULATED = "SIMULATED"
SIMULATED_BANNER = ("SIMULATED BENCH: no real pack was tested; "
                    "this document is no evidence about any unit")


def footer_mark(simulated: bool) -> str:
    """What a page footer adds for a simulated run (empty for a real bench)."""
    return f"  ·  {SIMULATED}" if simulated else ""
