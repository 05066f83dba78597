"""Server-rendered SVG charts (line, grouped bar, heat map) with axes, ticks, units
and escaped labels; pure Python, no Django, no JavaScript, no CDN."""

import math
from collections.abc import Sequence
from html import escape

# Colour-blind-safe (Okabe-Ito), in the order series are drawn.
PALETTE = ("#0072b2", "#e69f00", "#009e73", "#cc79a7", "#56b4e9", "#d55e00")
MARGIN = {"left": 58, "right": 16, "top": 44, "bottom": 46}
FONT = 'font-family="system-ui, sans-serif" font-size="11"'


def nice_ticks(lo: float, hi: float, count: int = 5) -> list[float]:
    """Round tick values (1, 2, 2.5 or 5 times a power of ten) covering [lo, hi]."""
    if not (math.isfinite(lo) and math.isfinite(hi)):
        return [0.0, 1.0]
    if hi <= lo:
        lo, hi = (lo - 0.5, hi + 0.5) if lo == hi else (hi, lo)
    raw = (hi - lo) / max(1, count)
    power = 10 ** math.floor(math.log10(raw))
    step = next(m * power for m in (1, 2, 2.5, 5, 10) if m * power >= raw)
    first = math.floor(lo / step + 1e-9) * step
    ticks, value = [], first
    while value < hi + step * 0.999:
        ticks.append(round(value, 10))
        value += step
    return ticks


def _fmt(value: float) -> str:
    if value == int(value) and abs(value) < 1e6:
        return str(int(value))
    return f"{value:.3g}"


class _Frame:
    """The plotting area of a chart and its scales."""

    def __init__(self, width, height, x_ticks, y_ticks, bottom_extra=0):
        self.width, self.height = width, height
        self.left, self.top = MARGIN["left"], MARGIN["top"]
        self.right = width - MARGIN["right"]
        self.bottom = height - MARGIN["bottom"] - bottom_extra
        self.x_ticks, self.y_ticks = x_ticks, y_ticks

    def x(self, value: float) -> float:
        lo, hi = self.x_ticks[0], self.x_ticks[-1]
        return self.left + (value - lo) / ((hi - lo) or 1) * (self.right - self.left)

    def y(self, value: float) -> float:
        lo, hi = self.y_ticks[0], self.y_ticks[-1]
        return self.bottom - (value - lo) / ((hi - lo) or 1) * (self.bottom - self.top)


def _open(width: int, height: int, title: str, testid: str) -> list[str]:
    return [
        f'<svg xmlns="http://www.w3.org/2000/svg" class="chart" role="img" '
        f'viewBox="0 0 {width} {height}" width="{width}" height="{height}" '
        f'data-testid="{escape(testid)}" aria-label="{escape(title)}" {FONT}>',
        f"<title>{escape(title)}</title>",
        f'<text x="{width / 2:.0f}" y="16" text-anchor="middle" font-size="13" '
        f'font-weight="600">{escape(title)}</text>',
    ]


def _y_axis(frame: _Frame, label: str) -> list[str]:
    out = ['<g class="axis axis-y">']
    for tick in frame.y_ticks:
        y = frame.y(tick)
        out.append(
            f'<line x1="{frame.left}" x2="{frame.right}" y1="{y:.1f}" y2="{y:.1f}" '
            'stroke="#ddd"/>'
            f'<text x="{frame.left - 6}" y="{y + 4:.1f}" text-anchor="end">'
            f"{_fmt(tick)}</text>"
        )
    mid = (frame.top + frame.bottom) / 2
    out.append(
        f'<line x1="{frame.left}" x2="{frame.left}" y1="{frame.top}" '
        f'y2="{frame.bottom}" stroke="#333"/>'
        f'<text class="axis-label" x="14" y="{mid:.0f}" text-anchor="middle" '
        f'transform="rotate(-90 14 {mid:.0f})">{escape(label)}</text></g>'
    )
    return out


def _x_axis(frame: _Frame, label: str, ticks: Sequence[tuple[float, str]]) -> list:
    out = [
        '<g class="axis axis-x">'
        f'<line x1="{frame.left}" x2="{frame.right}" y1="{frame.bottom}" '
        f'y2="{frame.bottom}" stroke="#333"/>'
    ]
    spacing = (frame.right - frame.left) / max(1, len(ticks))
    # Labels wider than their slot are slanted rather than overlapping.
    slant = any(len(text) * 6.5 > spacing for _x, text in ticks)
    for x, text in ticks:
        y = frame.bottom + 16
        turn = f' transform="rotate(-30 {x:.1f} {y})"' if slant else ""
        anchor = "end" if slant else "middle"
        out.append(
            f'<line x1="{x:.1f}" x2="{x:.1f}" y1="{frame.bottom}" '
            f'y2="{frame.bottom + 4}" stroke="#333"/>'
            f'<text x="{x:.1f}" y="{y}" text-anchor="{anchor}"{turn}>'
            f"{escape(text)}</text>"
        )
    out.append(
        f'<text class="axis-label" x="{(frame.left + frame.right) / 2:.0f}" '
        f'y="{frame.height - 8}" text-anchor="middle">{escape(label)}</text></g>'
    )
    return out


def _legend(names: Sequence[str], width: int) -> list[str]:
    out, x = ['<g class="legend">'], MARGIN["left"] + 4
    for i, name in enumerate(names):
        colour = PALETTE[i % len(PALETTE)]
        out.append(
            f'<rect x="{x}" y="{MARGIN["top"] - 22}" width="10" height="10" '
            f'fill="{colour}"/><text x="{x + 14}" y="{MARGIN["top"] - 13}">'
            f"{escape(name)}</text>"
        )
        x += 24 + 7 * len(name)
        if x > width - 80:
            break
    out.append("</g>")
    return out


def empty_chart(*, title: str, message: str, testid: str, width=560, height=120):
    """A framed note where a chart has no data (never an empty box)."""
    out = _open(width, height, title, testid)
    out.append(
        f'<text class="empty" x="{width / 2:.0f}" y="{height / 2 + 8:.0f}" '
        f'text-anchor="middle" fill="#666">{escape(message)}</text></svg>'
    )
    return "".join(out)


def line_chart(
    series: dict[str, Sequence[tuple[float, float]]],
    *,
    title: str,
    x_label: str,
    y_label: str,
    testid: str = "chart",
    width: int = 560,
    height: int = 300,
    y_range: tuple[float, float] | None = None,
) -> str:
    """One polyline with point markers per named series of (x, y) points; points
    with a non-finite value are left out."""
    series = {
        name: [(x, y) for x, y in points if math.isfinite(x) and math.isfinite(y)]
        for name, points in series.items()
    }
    points = [p for pts in series.values() for p in pts]
    if not points:
        return empty_chart(title=title, message="no data yet", testid=testid)
    xs, ys = [p[0] for p in points], [p[1] for p in points]
    lo, hi = y_range if y_range else (min(0.0, min(ys)), max(ys))
    frame = _Frame(width, height, nice_ticks(min(xs), max(xs)), nice_ticks(lo, hi))
    out = _open(width, height, title, testid)
    out += _y_axis(frame, y_label)
    out += _x_axis(frame, x_label, [(frame.x(t), _fmt(t)) for t in frame.x_ticks])
    for i, (name, pts) in enumerate(series.items()):
        colour = PALETTE[i % len(PALETTE)]
        path = " ".join(f"{frame.x(x):.1f},{frame.y(y):.1f}" for x, y in sorted(pts))
        out.append(
            f'<g class="series" data-series="{escape(name)}">'
            f'<polyline points="{path}" fill="none" stroke="{colour}" '
            'stroke-width="2"/>'
        )
        for x, y in pts:
            out.append(
                f'<circle cx="{frame.x(x):.1f}" cy="{frame.y(y):.1f}" r="2.5" '
                f'fill="{colour}"><title>{escape(name)}: {_fmt(x)}, '
                f"{y:.4g}</title></circle>"
            )
        out.append("</g>")
    out += _legend(list(series), width)
    out.append("</svg>")
    return "".join(out)


def bar_chart(
    categories: Sequence[str],
    series: dict[str, Sequence[float | None]],
    *,
    title: str,
    x_label: str,
    y_label: str,
    testid: str = "chart",
    width: int = 560,
    height: int = 300,
    y_range: tuple[float, float] | None = None,
) -> str:
    """Grouped vertical bars: one group per category, one bar per series (None:
    no bar). Negative values (deltas) hang below the zero line."""
    values = [v for vs in series.values() for v in vs if v is not None]
    if not categories or not values:
        return empty_chart(title=title, message="no data yet", testid=testid)
    lo, hi = y_range if y_range else (min(0.0, min(values)), max(0.0, max(values)))
    width = max(width, min(1200, 28 * len(categories) + MARGIN["left"]))
    room = (width - MARGIN["left"] - MARGIN["right"]) / len(categories)
    longest = max(len(c[:14]) for c in categories)
    extra = 50 if longest * 6.5 > room else 0  # slanted labels need the room
    height += extra
    frame = _Frame(
        width, height, [0, len(categories)], nice_ticks(lo, hi), bottom_extra=extra
    )
    out = _open(width, height, title, testid)
    out += _y_axis(frame, y_label)
    slot = (frame.right - frame.left) / len(categories)
    bar = slot * 0.8 / max(1, len(series))
    zero = frame.y(max(frame.y_ticks[0], min(0.0, frame.y_ticks[-1])))
    for s, (name, vs) in enumerate(series.items()):
        colour = PALETTE[s % len(PALETTE)]
        out.append(f'<g class="series" data-series="{escape(name)}">')
        for c, value in enumerate(vs):
            if value is None:
                continue
            x = frame.left + c * slot + slot * 0.1 + s * bar
            y = frame.y(value)
            out.append(
                f'<rect class="bar" x="{x:.1f}" y="{min(y, zero):.1f}" '
                f'width="{bar:.1f}" height="{abs(zero - y):.1f}" fill="{colour}">'
                f"<title>{escape(name)} · {escape(categories[c])}: {value:.4g}"
                "</title></rect>"
            )
        out.append("</g>")
    ticks = [
        (frame.left + (c + 0.5) * slot, name[:14]) for c, name in enumerate(categories)
    ]
    out += _x_axis(frame, x_label, ticks)
    if len(series) > 1:
        out += _legend(list(series), width)
    out.append("</svg>")
    return "".join(out)


def heatmap(
    matrix: Sequence[Sequence[float]],
    labels: Sequence[str],
    *,
    title: str,
    x_label: str = "true class",
    y_label: str = "predicted class",
    testid: str = "chart",
    size: int = 320,
) -> str:
    """A square matrix as shaded cells (rows on the y axis, columns on the x axis)
    with the count written in each cell and the labels on both axes."""
    n = len(matrix)
    if n == 0 or any(len(row) != n for row in matrix) or len(labels) != n:
        return empty_chart(title=title, message="no confusion matrix", testid=testid)
    size = max(size, min(720, 22 * n))  # room for a count in every cell
    left, top = 96, MARGIN["top"]
    width, height = left + size + MARGIN["right"], top + size + 64
    cell = size / n
    top_value = max((v for row in matrix for v in row), default=0) or 1
    out = _open(width, height, title, testid)
    out.append('<g class="cells">')
    for r, row in enumerate(matrix):
        for c, value in enumerate(row):
            shade = value / top_value
            ink = "#fff" if shade > 0.55 else "#222"
            x, y = left + c * cell, top + r * cell
            out.append(
                f'<rect x="{x:.1f}" y="{y:.1f}" width="{cell:.1f}" '
                f'height="{cell:.1f}" fill="rgb({int(255 - 255 * shade)},'
                f'{int(255 - 140 * shade)},{int(255 - 75 * shade)})" '
                'stroke="#fff"><title>'
                f"predicted {escape(labels[r])}, true {escape(labels[c])}: "
                f"{_fmt(value)}</title></rect>"
            )
            if cell >= 18:
                out.append(
                    f'<text x="{x + cell / 2:.1f}" y="{y + cell / 2 + 4:.1f}" '
                    f'text-anchor="middle" fill="{ink}">{_fmt(value)}</text>'
                )
    out.append("</g>")
    out.append('<g class="axis axis-y">')
    for r, name in enumerate(labels):
        out.append(
            f'<text x="{left - 6}" y="{top + (r + 0.5) * cell + 4:.1f}" '
            f'text-anchor="end">{escape(name[:14])}</text>'
        )
    out.append(
        f'<text class="axis-label" x="12" y="{top + size / 2:.0f}" '
        f'text-anchor="middle" transform="rotate(-90 12 {top + size / 2:.0f})">'
        f"{escape(y_label)}</text></g>"
    )
    out.append('<g class="axis axis-x">')
    for c, name in enumerate(labels):
        out.append(
            f'<text x="{left + (c + 0.5) * cell:.1f}" y="{top + size + 16}" '
            f'text-anchor="middle">{escape(name[:10])}</text>'
        )
    out.append(
        f'<text class="axis-label" x="{left + size / 2:.0f}" y="{height - 12}" '
        f'text-anchor="middle">{escape(x_label)}</text></g></svg>'
    )
    return "".join(out)
