"""PNG charts for the owner: monthly revenue (first vs repeat) and the cohort heatmap.

matplotlib's object API with the Agg canvas: no pyplot global state, so charts may be drawn
in worker threads. Labels come in already translated; money comes in major units.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from io import BytesIO

DPI = 110


def _png(figure: object) -> bytes:
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    assert isinstance(figure, Figure)
    FigureCanvasAgg(figure)
    out = BytesIO()
    figure.savefig(out, format="png", dpi=DPI)
    return out.getvalue()


def revenue_chart(
    months: Sequence[str],
    first: Sequence[float],
    repeat: Sequence[float],
    *,
    title: str,
    first_label: str,
    repeat_label: str,
    value_label: Callable[[float], str] | None = None,
) -> bytes:
    """Stacked bars: revenue from first purchases below, from repeat purchases on top.

    `value_label` writes the money axis the reader's way («175 000 ₽»); charts know no language.
    """
    from matplotlib.figure import Figure
    from matplotlib.ticker import FuncFormatter

    figure = Figure(figsize=(8, 4.2), layout="constrained")
    axes = figure.add_subplot()
    positions = range(len(months))
    axes.bar(positions, first, color="#9db4d6", label=first_label)
    axes.bar(positions, repeat, bottom=first, color="#2f6db5", label=repeat_label)
    axes.set_xticks(list(positions), list(months), rotation=45, ha="right", fontsize=8)
    axes.set_title(title)
    axes.legend(loc="upper left", fontsize=8)
    axes.grid(axis="y", alpha=0.3)
    axes.set_axisbelow(True)
    if value_label is not None:
        axes.yaxis.set_major_formatter(FuncFormatter(lambda value, _pos: value_label(value)))
    return _png(figure)


def cohort_heatmap(
    cohorts: Sequence[str],
    shares: Sequence[Sequence[float | None]],
    *,
    title: str,
    x_label: str,
    y_label: str,
) -> bytes:
    """Rows: cohorts by first-purchase month; columns: months since; cells: share active."""
    import numpy as np
    from matplotlib.figure import Figure

    width = max((len(row) for row in shares), default=0)
    grid = np.full((len(shares), width), np.nan)
    for i, row in enumerate(shares):
        for k, value in enumerate(row):
            if value is not None:
                grid[i, k] = value * 100
    figure = Figure(figsize=(8, 0.45 * len(cohorts) + 1.6), layout="constrained")
    axes = figure.add_subplot()
    image = axes.imshow(grid, cmap="Blues", vmin=0, vmax=100, aspect="auto")
    for (i, k), value in np.ndenumerate(grid):
        if not np.isnan(value):
            colour = "white" if value > 60 else "black"
            axes.text(k, i, f"{value:.0f}", ha="center", va="center", fontsize=7, color=colour)
    axes.set_yticks(range(len(cohorts)), list(cohorts), fontsize=8)
    axes.set_xticks(range(width), [str(k) for k in range(width)], fontsize=8)
    axes.set_xlabel(x_label)
    axes.set_ylabel(y_label)
    axes.set_title(title)
    figure.colorbar(image, ax=axes, format="%d%%")
    return _png(figure)
