"""``python -m stations``: the ``station`` command, for a Python without the script on PATH."""

from stations.cli import main

main()
