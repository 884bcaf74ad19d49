"""The run console: the browser side of recording a run, served by ``launchbook serve`` only."""
