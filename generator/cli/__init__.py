"""Command line: parse options, call one library function, print.

Exit codes: 0 ok, 1 failure (an ``Error: …`` line), 2 usage error. The group and shared
helpers live in ``app``; each module registers the commands of one audience.
"""

from generator.cli import archive_commands, run_commands, site_commands  # noqa: F401 - they register commands
from generator.cli.app import cli, main

__all__ = ["cli", "main"]
