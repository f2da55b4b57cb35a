"""Charts for the staff health page, drawn as inline SVG."""

from __future__ import annotations

from django.utils.html import escape

from orders.fno_stats import MinutePoint


def sparkline_svg(points: list[MinutePoint], *, label: str, width: int = 360, height: int = 60) -> str:
    """Calls per minute as bars (failures in red), drawn as inline SVG: no script, no CDN, fits the CSP."""
    label = escape(label)
    peak = max((p.calls for p in points), default=0) or 1
    bar = width / max(1, len(points))
    parts = [
        f'<svg class="spark" viewBox="0 0 {width} {height}" width="{width}" height="{height}" role="img" '
        f'aria-label="{label}"><title>{label}</title>'
    ]
    for i, point in enumerate(points):
        ok = point.calls - point.failures
        ok_h = height * ok / peak
        fail_h = height * point.failures / peak
        x = i * bar
        if ok_h:
            parts.append(f'<rect x="{x:.1f}" y="{height - ok_h:.1f}" width="{bar * 0.8:.1f}" height="{ok_h:.1f}" '
                         f'fill="#1a7f37"/>')
        if fail_h:
            parts.append(f'<rect x="{x:.1f}" y="{height - ok_h - fail_h:.1f}" width="{bar * 0.8:.1f}" '
                         f'height="{fail_h:.1f}" fill="#b42318"/>')
    parts.append(f'<line x1="0" y1="{height - 0.5}" x2="{width}" y2="{height - 0.5}" stroke="#d0d7de"/></svg>')
    return "".join(parts)
