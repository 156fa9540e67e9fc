"""pytest entry point: loads the station plugin (options --station, --serial, --unit, ...)."""

pytest_plugins = ["fixtures.plugin"]
