"""Action plugin alertmanager_silence, run in the controller process (documented in library/)."""

from maintbook.plugins.silence import ActionModule

__all__ = ["ActionModule"]
