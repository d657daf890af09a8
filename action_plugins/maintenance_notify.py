"""Action plugin maintenance_notify, run in the controller process (documented in library/)."""

from maintbook.plugins.notice import ActionModule

__all__ = ["ActionModule"]
