"""Action plugin statuspage_maintenance, run in the controller process (documented in library/)."""

from maintbook.plugins.page import ActionModule

__all__ = ["ActionModule"]
