"""The simulated bench: a digital twin of the pack and of every instrument.

Station code never imports this package except in the one place that starts the
simulated bench (``stations.simbench``); this package never imports station code.
"""
