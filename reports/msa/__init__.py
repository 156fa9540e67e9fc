"""Measurement system analysis of the station: a type-1 gauge study on a master unit, a
crossed gauge R&R (ANOVA), and a decision study (false rejects, escapes, where each fault is
caught). The statistics are pure functions of the records; ``runs`` drives the plan through
the one engine; the ``*_report`` modules draw and write the PDF and JSON reports. See
docs/msa.md.
"""
