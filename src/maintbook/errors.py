"""The one family of expected failures; the CLI maps them to exit codes."""

from __future__ import annotations


class MaintbookError(Exception):
    """An expected failure with a message fit for the user."""

    exit_code = 2


class UsageError(MaintbookError):
    """Bad command-line input or configuration (exit 2)."""

    exit_code = 2
