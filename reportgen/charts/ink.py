"""The chart look's neutral colours, apart from ``style`` so that drawings made without
matplotlib (the sparklines) share them without loading it."""

from __future__ import annotations

INK = "#1F2933"  # body text: near-black reads softer than pure black on white
MUTED = "#6B7280"  # secondary text: n labels, notes
GRID = "#E3E6EA"
SPINE = "#B8BEC6"
NO_DATA_FILL = "#F1F3F5"
