"""Reading typed values out of source columns the same way in every calculator."""

from __future__ import annotations

from typing import TYPE_CHECKING

from reportgen._lazy import lazy
from reportgen.period import Period

if TYPE_CHECKING:
    import numpy as np
    import pandas as pd
else:
    np = lazy("numpy")
    pd = lazy("pandas")

_TRUE = {"1", "true", "t", "yes", "y"}
_FALSE = {"0", "false", "f", "no", "n"}


def numeric(frame: pd.DataFrame, column: str) -> pd.Series:
    """The column as floats; anything unreadable becomes NaN (and is left out by callers)."""
    return pd.to_numeric(frame[column], errors="coerce").astype(float)


def flags(frame: pd.DataFrame, column: str) -> pd.Series:
    """The column as a nullable boolean: 1/0, True/False and yes/no text; blanks stay missing.

    Missing flags are left out of a rate's denominator rather than counted as 'no', so a
    source that only fills the flag for some rows cannot dilute the rate.
    """
    series = frame[column]
    if pd.api.types.is_bool_dtype(series) or pd.api.types.is_numeric_dtype(series):
        values = pd.to_numeric(series, errors="coerce")
        # 1 and 0 only: any other number (a 2) is no flag, as the SQL reading has it
        return (values == 1).astype("boolean").mask(~values.isin((0, 1))).rename(None)
    text = series.astype("string").str.strip().str.lower()
    out = pd.Series(pd.NA, index=series.index, dtype="boolean")
    out[text.isin(_TRUE).fillna(False).to_numpy(bool)] = True
    out[text.isin(_FALSE).fillna(False).to_numpy(bool)] = False
    return out


def timestamps(frame: pd.DataFrame, column: str, period: Period,
               naive_timezone: str | None = None) -> pd.Series:
    """The column as instants in the period's timezone.

    Naive times are read in ``naive_timezone`` (the source's timezone), by default the
    period's own.  Unreadable values become NaT.
    """
    values = frame[column]
    if not pd.api.types.is_datetime64_any_dtype(values):
        try:  # one format for the whole column (the common case) is much faster than 'mixed'
            values = pd.to_datetime(values)
        except (ValueError, TypeError):
            values = pd.to_datetime(values, errors="coerce", format="mixed")
    if not isinstance(values.dtype, pd.DatetimeTZDtype):
        values = values.dt.tz_localize(naive_timezone or period.timezone, ambiguous="NaT",
                                       nonexistent="shift_forward")
    return values.dt.tz_convert(period.timezone)


def among(frame: pd.DataFrame, column: str | None, values: list[str]) -> pd.DataFrame:
    """Rows whose ``column`` is one of ``values`` (all rows when ``column`` is None)."""
    if column is None:
        return frame
    wanted = {v.lower() for v in values}
    return frame.loc[frame[column].astype("string").str.strip().str.lower().isin(wanted)
                     .fillna(False).to_numpy(bool)]
