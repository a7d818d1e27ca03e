"""Inline SVG charts for the reports: line and point charts, bar charts, drawn from plain numbers.

Hand-written rather than matplotlib: a batch renders a page per student in the process that
must stay light, and matplotlib costs 2 s to import and about 0.3 s per figure on the 2-core
machines measured (benchmarks/README.md), against well under a millisecond here. Every chart
is an accessible image (role="img" with a <title> and a <desc> holding its text alternative),
tells its series apart by dash and marker as well as by colour, and uses no script.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Sequence

from markupsafe import Markup, escape

from grader.figures import Figure, Series

WIDTH, HEIGHT = 600, 330
LEFT, RIGHT, TOP, BOTTOM = 70, 18, 40, 48

# role -> (stroke colour, dash, marker): told apart without colour by dash and marker.
STYLE: dict[str, tuple[str, str, str]] = {
    "yours": ("#0969da", "", "circle"),
    "reference": ("#6e7781", "7 5", "square"),
    "data": ("#6e7781", "", "dot"),
    "diagonal": ("#afb8c1", "2 4", ""),
}


@dataclass(frozen=True)
class Scale:
    low: float
    high: float
    start: float  # pixels
    end: float
    log: bool = False

    def __call__(self, value: float) -> float:
        low, high, v = self.low, self.high, value
        if self.log:
            low, high, v = math.log10(low), math.log10(high), math.log10(max(value, self.low))
        share = 0.5 if high == low else (v - low) / (high - low)
        return round(self.start + share * (self.end - self.start), 2)


def nice_ticks(low: float, high: float, count: int = 5) -> list[float]:
    """Round tick values (1, 2 or 5 times a power of ten apart) covering [low, high]."""
    if high <= low:
        return [low]
    raw = (high - low) / count
    power = 10 ** math.floor(math.log10(raw))
    step = next(m * power for m in (1, 2, 5, 10) if m * power >= raw)
    first = math.ceil(low / step - 1e-9) * step
    ticks, value = [], first
    while value <= high + step * 1e-9:
        ticks.append(0.0 if abs(value) < step * 1e-9 else value)
        value += step
    return ticks


def log_ticks(low: float, high: float) -> list[float]:
    """Powers of ten inside [low, high]; 1-2-5 steps when the range spans three decades or fewer."""
    first, last = math.floor(math.log10(low)), math.ceil(math.log10(high))
    marks = (1, 2, 5) if last - first <= 3 else (1,)
    ticks = [m * 10.0 ** p for p in range(first, last + 1) for m in marks]
    return [t for t in ticks if low * (1 - 1e-9) <= t <= high * (1 + 1e-9)]


def label(value: float) -> str:
    """A tick label: 3 significant digits, no trailing zeros."""
    if value == 0:
        return "0"
    if abs(value) >= 1e6 or abs(value) < 1e-3:
        return f"{value:.2g}".replace("e+0", "e").replace("e-0", "e-").replace("e+", "e")
    return f"{value:.6g}" if abs(value) >= 1 else f"{value:.3g}"


def quantity(value: float) -> str:
    """A number in a sentence (a figure's description): four significant digits, as the lessons print
    W 0.0933 (a tick's three and a cost's six read as two precisions side by side), no exponent from
    0.001 to a million, and a true minus sign: "from 70.33 to 0.626", "y = 2.193·x − 0.2243"."""
    if value == 0 or not math.isfinite(value):
        return label(value)
    if abs(value) >= 1e6 or abs(value) < 1e-3:
        text = f"{value:.4g}".replace("e+0", "e").replace("e-0", "e-").replace("e+", "e")
    else:
        text = f"{value:.{max(0, 3 - math.floor(math.log10(abs(value))))}f}"
        text = text.rstrip("0").rstrip(".") if "." in text else text
    return text.replace("-", "\N{MINUS SIGN}")


def _padded(low: float, high: float, log: bool) -> tuple[float, float]:
    if log:
        return (low / 1.3, high * 1.3) if low == high else (low, high)
    if low == high:
        return low - 1, high + 1
    pad = (high - low) * 0.05
    return low - pad, high + pad


def _marker(kind: str, x: float, y: float, colour: str) -> str:
    if kind == "square":
        return f'<rect x="{x - 3.5:.2f}" y="{y - 3.5:.2f}" width="7" height="7" fill="none" stroke="{colour}" stroke-width="1.6"/>'
    if kind == "dot":
        return f'<circle cx="{x}" cy="{y}" r="2.6" fill="{colour}" fill-opacity="0.55"/>'
    return f'<circle cx="{x}" cy="{y}" r="4" fill="{colour}" stroke="#fff" stroke-width="1"/>'


def _series(s: Series, xs: Scale, ys: Scale) -> list[str]:
    colour, dash, marker = STYLE.get(s.role, STYLE["data"])
    points = [(xs(x), ys(y)) for x, y in zip(s.x, s.y)]
    out = []
    if s.style in ("line", "steps") and len(points) > 1:
        path = " ".join(f"{x},{y}" for x, y in points)
        dashing = f' stroke-dasharray="{dash}"' if dash else ""
        width = "2.6" if s.role == "yours" else "1.8"
        out.append(f'<polyline points="{path}" fill="none" stroke="{colour}" stroke-width="{width}"'
                   f'{dashing} stroke-linejoin="round"/>')
    if s.style in ("points", "steps") and marker:
        out += [_marker(marker, x, y, colour) for x, y in points]
    return out


def _legend(entries: Sequence[tuple[str, str]]) -> list[str]:
    """One row above the plot: a sample of each series' line and marker, then its name in words."""
    out: list[str] = []
    x: float = LEFT
    for role, text in entries:
        colour, dash, marker = STYLE.get(role, STYLE["data"])
        dashing = f' stroke-dasharray="{dash}"' if dash else ""
        if role != "data":
            out.append(f'<line x1="{x}" y1="16" x2="{x + 26}" y2="16" stroke="{colour}" stroke-width="2.4"{dashing}/>')
        if marker:
            out.append(_marker(marker, x + 13, 16, colour))
        out.append(f'<text x="{x + 32}" y="20" class="legend">{escape(text)}</text>')
        x += 44 + 7.5 * len(text) + (7.5 * sum(1 for c in text if ord(c) > 0x2E80))  # wide glyphs count twice
    return out


def chart(figure: Figure, title: str, description: str, x_title: str, y_title: str,
          legend: dict[str, str], ident: str) -> Markup:
    """An SVG chart of `figure`. `legend` names each role shown; `ident` makes the ids unique."""
    xs_all = [x for s in figure.series for x in s.x]
    ys_all = [y for s in figure.series for y in s.y]
    if figure.log_y:
        ys_all = [y for y in ys_all if y > 0]
    x_low, x_high = _padded(min(xs_all), max(xs_all), False)
    y_low, y_high = _padded(min(ys_all), max(ys_all), figure.log_y)
    xs = Scale(x_low, x_high, LEFT, WIDTH - RIGHT)
    ys = Scale(y_low, y_high, HEIGHT - BOTTOM, TOP, log=figure.log_y)
    parts = [f'<svg xmlns="http://www.w3.org/2000/svg" class="chart" viewBox="0 0 {WIDTH} {HEIGHT}" role="img" '
             f'aria-labelledby="{ident}-title {ident}-desc">',
             f'<title id="{ident}-title">{escape(title)}</title><desc id="{ident}-desc">{escape(description)}</desc>',
             f'<rect x="{LEFT}" y="{TOP}" width="{WIDTH - LEFT - RIGHT}" height="{HEIGHT - TOP - BOTTOM}" class="plot"/>']
    for tick in nice_ticks(x_low, x_high, 6):
        px = xs(tick)
        parts.append(f'<line x1="{px}" y1="{TOP}" x2="{px}" y2="{HEIGHT - BOTTOM}" class="grid"/>'
                     f'<text x="{px}" y="{HEIGHT - BOTTOM + 16}" text-anchor="middle" class="tick">{label(tick)}</text>')
    for tick in (log_ticks(y_low, y_high) if figure.log_y else nice_ticks(y_low, y_high, 5)):
        py = ys(tick)
        parts.append(f'<line x1="{LEFT}" y1="{py}" x2="{WIDTH - RIGHT}" y2="{py}" class="grid"/>'
                     f'<text x="{LEFT - 6}" y="{py + 4}" text-anchor="end" class="tick">{label(tick)}</text>')
    for s in figure.series:
        parts += _series(s, xs, ys)
    parts.append(f'<text x="{(LEFT + WIDTH - RIGHT) / 2}" y="{HEIGHT - 8}" text-anchor="middle" class="axis">'
                 f'{escape(x_title)}</text>')
    parts.append(f'<text x="16" y="{(TOP + HEIGHT - BOTTOM) / 2}" text-anchor="middle" class="axis" '
                 f'transform="rotate(-90 16 {(TOP + HEIGHT - BOTTOM) / 2})">{escape(y_title)}</text>')
    shown = dict.fromkeys(s.role for s in figure.series)
    parts += _legend([(role, legend[role]) for role in shown if role in legend])
    parts.append("</svg>")
    return Markup("".join(parts))


def bars(values: Sequence[tuple[str, float]], title: str, description: str, unit: str, ident: str,
         high: float | None = None) -> Markup:
    """A horizontal bar chart: one labelled bar per (label, value), the value written at its end."""
    row, label_width, width = 26, 230, WIDTH
    height = TOP + row * max(1, len(values)) + 12
    top = max([v for _, v in values] + [high or 0.0]) or 1.0
    scale = Scale(0.0, top, label_width, width - 70)
    parts = [f'<svg xmlns="http://www.w3.org/2000/svg" class="chart bars" viewBox="0 0 {width} {height}" role="img" '
             f'aria-labelledby="{ident}-title {ident}-desc">',
             f'<title id="{ident}-title">{escape(title)}</title><desc id="{ident}-desc">{escape(description)}</desc>',
             f'<text x="{label_width}" y="22" class="legend">{escape(unit)}</text>']
    for i, (name, value) in enumerate(values):
        y = TOP + i * row
        shown = name if len(name) <= 30 else name[:29] + "…"
        parts.append(f'<text x="{label_width - 8}" y="{y + 15}" text-anchor="end" class="tick">{escape(shown)}</text>'
                     f'<rect x="{label_width}" y="{y + 3}" width="{max(0.0, scale(value) - label_width):.2f}" height="{row - 8}" class="bar"/>'
                     f'<text x="{scale(value) + 6:.2f}" y="{y + 15}" class="tick">{label(value)}</text>')
    parts.append("</svg>")
    return Markup("".join(parts))
