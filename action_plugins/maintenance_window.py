"""Action plugin maintenance_window, run in the controller process (documented in library/)."""

from maintbook.plugins.window import ActionModule

__all__ = ["ActionModule"]
