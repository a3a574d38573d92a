"""The demonstration CCAS: invented people, two years of records, made the same at every load.

Public names: `load_demo`, `DEMO_PASSWORD`, `use_demo_settings`.
"""

from __future__ import annotations

from flask import Flask

from outreach.demo import commands
from outreach.demo.load import DEMO_PASSWORD, load_demo, use_demo_settings

__all__ = ["DEMO_PASSWORD", "init_app", "load_demo", "use_demo_settings"]


def init_app(app: Flask) -> None:
    """Add `outreach demo`, which loads the demonstration."""
    app.cli.add_command(commands.demo)
