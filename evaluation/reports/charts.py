"""Charts for the Word documents, drawn by matplotlib (Agg) in the CJK font (docs/reports.md).

matplotlib is imported on first use only, so the app starts without it.
"""

from __future__ import annotations

import io
import threading
from decimal import Decimal

FONT_FILE = "/usr/share/fonts/truetype/wqy/wqy-microhei.ttc"
_LOCK = threading.Lock()  # pyplot keeps global state


def _pyplot():
    import matplotlib

    matplotlib.use("Agg")
    from matplotlib import font_manager, pyplot

    try:
        font_manager.fontManager.addfont(FONT_FILE)
        name = font_manager.FontProperties(fname=FONT_FILE).get_name()
    except (OSError, RuntimeError):  # no CJK font installed: labels may show boxes
        name = "DejaVu Sans"
    pyplot.rcParams.update(
        {"font.family": "sans-serif", "font.sans-serif": [name, "DejaVu Sans"],
         "axes.unicode_minus": False}
    )  # fmt: skip
    return pyplot


#: Bar colours by grade band, best first; a grade outside the bands (数据不全) is grey.
BAND_COLOURS = ("#1e7b34", "#3867d6", "#e67e22", "#c0392b", "#8e44ad", "#16a085")


def totals_chart(
    names: list[str], totals: list[str], grades: list[str], bands: list[tuple[str, Decimal]]
) -> bytes:
    """A PNG of each unit's total, best first, coloured by grade, with each band's minimum
    as a dashed line."""
    with _LOCK:
        pyplot = _pyplot()
        height = max(2.6, 0.24 * len(names) + 1.0)
        figure, axes = pyplot.subplots(figsize=(6.3, height), dpi=150)
        values = [float(t) for t in totals]
        positions = list(range(len(names)))
        order = [name for name, _ in bands]
        colours = [
            BAND_COLOURS[order.index(g) % len(BAND_COLOURS)] if g in order else "#999999"
            for g in grades
        ]
        axes.barh(positions, values, color=colours, height=0.65)
        axes.set_yticks(positions, names, fontsize=8)
        axes.invert_yaxis()
        for position, value, text in zip(positions, values, totals, strict=True):
            axes.text(value + 0.5, position, text, va="center", fontsize=7)
        for name, minimum in bands:
            if minimum > 0:
                axes.axvline(float(minimum), color="#c0392b", linewidth=0.8, linestyle="--")
                axes.text(
                    float(minimum), 1.01, f"{name}≥{minimum}", color="#c0392b", fontsize=7,
                    ha="center", va="bottom", transform=axes.get_xaxis_transform(),
                )  # fmt: skip
        axes.set_xlim(0, max([110.0, *[v + 8 for v in values]]))
        axes.set_xlabel("总分", fontsize=8)
        axes.tick_params(axis="x", labelsize=7)
        figure.tight_layout()
        buffer = io.BytesIO()
        figure.savefig(buffer, format="png")
        pyplot.close(figure)
    return buffer.getvalue()


#: Above this many units a bar per unit is unreadable: the notice draws the grade counts.
MOST_BARS = 60


def grade_count_chart(counts: list[tuple[str, int]]) -> bytes:
    """A PNG of the number of units per grade, best grade first."""
    with _LOCK:
        pyplot = _pyplot()
        figure, axes = pyplot.subplots(figsize=(6.3, 2.8), dpi=150)
        labels = [grade for grade, _ in counts]
        numbers = [n for _, n in counts]
        colours = [BAND_COLOURS[k % len(BAND_COLOURS)] for k in range(len(counts))]
        axes.bar(labels, numbers, color=colours, width=0.6)
        for position, number in enumerate(numbers):
            axes.text(position, number, str(number), ha="center", va="bottom", fontsize=8)
        axes.set_ylabel("单位数", fontsize=8)
        axes.tick_params(labelsize=8)
        figure.tight_layout()
        buffer = io.BytesIO()
        figure.savefig(buffer, format="png")
        pyplot.close(figure)
    return buffer.getvalue()


def share_chart(labels: list[str], town: list[str], average: list[str], town_name: str) -> bytes:
    """A PNG of each indicator's share of its maximum (%): the town beside the towns' average
    (the page's chart, for the DOCX)."""
    with _LOCK:
        pyplot = _pyplot()
        height = max(2.6, 0.32 * len(labels) + 1.0)
        figure, axes = pyplot.subplots(figsize=(6.3, height), dpi=150)
        positions = list(range(len(labels)))
        mine = [float(v) for v in town]
        axes.barh([p - 0.2 for p in positions], mine, height=0.38, color="#3867d6",
                  label=town_name)  # fmt: skip
        axes.barh([p + 0.2 for p in positions], [float(v) for v in average], height=0.38,
                  color="#a3cb38", label="镇街平均")  # fmt: skip
        axes.set_yticks(positions, labels, fontsize=7)
        axes.invert_yaxis()
        axes.set_xlim(0, 112)
        axes.set_xlabel("得分率（%）", fontsize=8)
        axes.tick_params(axis="x", labelsize=7)
        axes.legend(fontsize=7, loc="lower right")
        figure.tight_layout()
        buffer = io.BytesIO()
        figure.savefig(buffer, format="png")
        pyplot.close(figure)
    return buffer.getvalue()
