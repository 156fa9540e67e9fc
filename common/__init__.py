"""Pieces both sides of the wire need: clocks, models, the parameter table, codecs.

Nothing here imports the station (drivers, stations, fixtures, testplans, reports) or the
simulator (sim); both import from here, so each fact is written once.
"""
