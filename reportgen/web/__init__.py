"""The web page for the quality team (``reportgen serve``)."""

from __future__ import annotations

from reportgen.web.app import WebConfig, create_app

__all__ = ["WebConfig", "create_app"]
