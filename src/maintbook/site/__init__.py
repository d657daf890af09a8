"""The ``file`` status page as a static site (SPEC §13): ``render_site`` is the whole API."""

from __future__ import annotations

from maintbook.site.render import render_site

__all__ = ["render_site"]
