"""Control-chart limits (the Shewhart p-chart).
"""

from __future__ import annotations

import numpy as np


# --- control charts ------------------------------------------------------------------------
# statsmodels and scipy have no Shewhart charts; the p-chart limits are the textbook
# p-bar +- 3 sqrt(p-bar (1 - p-bar) / n_i), with the lower limit floored at 0.
def p_chart_limits(defectives: np.ndarray, sizes: np.ndarray,
                   sigmas: float = 3.0) -> tuple[float, np.ndarray, np.ndarray]:
    """(centre line, upper limits, lower limits) of a p-chart with varying subgroup sizes."""
    defectives, sizes = np.asarray(defectives, float), np.asarray(sizes, float)
    center = float(defectives.sum() / sizes.sum())
    spread = sigmas * np.sqrt(center * (1 - center) / sizes)
    return center, np.minimum(center + spread, 1.0), np.maximum(center - spread, 0.0)
