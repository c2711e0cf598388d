"""``xhal conformance --html FILE``: one self-contained page (inline CSS, no script, nothing
fetched from the network).

- a matrix per device: op × dtype, each cell coloured by the worst outcome of its cases
  (crashed, timeout, fail, leak, pass, unsupported, no-device) and showing passed/total;
- the runtime checks: check × device, coloured the same way, the message on hover;
- every failure: id, device, outcome, message, input shapes, attributes, max abs and rel error,
  and a few mismatching elements, expected vs got.

Cells carry ``data-op``, ``data-dtype``, ``data-device`` (``data-check`` for runtime cells) and
``data-status`` so that tools (and the tests) can read the page back.
"""

from __future__ import annotations

import datetime
import html
import math
from collections import Counter, defaultdict
from pathlib import Path
from typing import Any

from .runner import (
    CRASHED,
    ERROR,
    FAIL,
    LEAK,
    NO_DEVICE,
    PASS,
    TIMEOUT,
    UNSUPPORTED,
    CaseResult,
    Report,
)

# Worst first: a cell shows the first of these that any of its cases has.
STATUS_ORDER = ("crashed", "timeout", "fail", "leak", "pass", "unsupported", "no-device")
COLOURS = {
    "pass": ("#c8e6c9", "#1b5e20"),
    "fail": ("#ef9a9a", "#7f0000"),
    "crashed": ("#8e0000", "#ffffff"),
    "timeout": ("#ffcc80", "#6d3d00"),
    "leak": ("#ce93d8", "#4a148c"),
    "unsupported": ("#e0e0e0", "#424242"),
    "no-device": ("#b0bec5", "#263238"),
}
_STATUS_OF = {
    PASS: "pass",
    FAIL: "fail",
    ERROR: "fail",
    CRASHED: "crashed",
    TIMEOUT: "timeout",
    LEAK: "leak",
    UNSUPPORTED: "unsupported",
    NO_DEVICE: "no-device",
}
_DTYPE_ORDER = ("float32", "float64", "float16", "bfloat16", "int8", "uint8", "int16", "uint16",
                "int32", "uint32", "int64", "uint64", "bool")
MAX_FAILURES = 2000  # rows in the failure section (the JSON report has all)


def status(outcomes: Counter[str]) -> str:
    """The colour class of a cell whose cases had these outcomes."""
    present = {_STATUS_OF.get(o, "fail") for o, n in outcomes.items() if n}
    for s in STATUS_ORDER:
        if s in present:
            return s
    return "unsupported"


def _e(value: Any) -> str:
    return html.escape(str(value), quote=True)


def _css() -> str:
    rules = [
        "body{font-family:system-ui,sans-serif;margin:1.5em;color:#212121}",
        "table{border-collapse:collapse;margin:.5em 0 1.5em}",
        "th,td{border:1px solid #bdbdbd;padding:2px 6px;font-size:13px;text-align:left}",
        "th{background:#f5f5f5;position:sticky;top:0}",
        "td.cell{text-align:center;min-width:4.5em}",
        "code{font-size:12px}",
        ".legend span{display:inline-block;padding:2px 8px;margin-right:4px;border-radius:3px}",
        ".failure{border-left:4px solid #c62828;padding:.3em .8em;margin:.8em 0;"
        "background:#fafafa}",
        ".msg{white-space:pre-wrap;font-family:monospace;font-size:12px}",
    ]
    for name, (bg, fg) in COLOURS.items():
        rules.append(f".s-{name}{{background:{bg};color:{fg}}}")
    return "\n".join(rules)


def _dtype_key(dtype: str) -> tuple[int, str]:
    return (_DTYPE_ORDER.index(dtype) if dtype in _DTYPE_ORDER else len(_DTYPE_ORDER), dtype)


def _matrix(results: list[CaseResult], device: str) -> str:
    cells: dict[tuple[str, str], Counter[str]] = defaultdict(Counter)
    ops: list[str] = []
    for r in results:
        if r.device != device:
            continue
        if r.op not in ops:
            ops.append(r.op)
        cells[(r.op, r.dtype)][r.outcome] += 1
    dtypes = sorted({dt for _, dt in cells}, key=_dtype_key)
    out = [f"<h3>{_e(device)}</h3>", '<table class="matrix"><tr><th>op</th>']
    out += [f"<th>{_e(dt)}</th>" for dt in dtypes]
    out.append("</tr>")
    for op in ops:
        out.append(f"<tr><th>{_e(op)}</th>")
        for dt in dtypes:
            c = cells.get((op, dt))
            if c is None:
                out.append("<td></td>")
                continue
            s = status(c)
            total = sum(c.values())
            title = ", ".join(f"{n} {o}" for o, n in sorted(c.items()))
            out.append(
                f'<td class="cell s-{s}" data-op="{_e(op)}" data-dtype="{_e(dt)}" '
                f'data-device="{_e(device)}" data-status="{s}" title="{_e(title)}">'
                f"{c[PASS]}/{total}</td>"
            )
        out.append("</tr>")
    out.append("</table>")
    return "\n".join(out)


def _runtime_table(rows: list[CaseResult]) -> str:
    devices: list[str] = []
    checks: list[str] = []
    by: dict[tuple[str, str], CaseResult] = {}
    for r in rows:
        if r.device not in devices:
            devices.append(r.device)
        name = r.check or r.id
        if name not in checks:
            checks.append(name)
        by[(name, r.device)] = r
    out = ['<table class="runtime"><tr><th>check</th>']
    out += [f"<th>{_e(d)}</th>" for d in devices]
    out.append("</tr>")
    for check in checks:
        out.append(f"<tr><th><code>{_e(check)}</code></th>")
        for d in devices:
            r = by.get((check, d))
            if r is None:
                out.append("<td></td>")
                continue
            s = _STATUS_OF.get(r.outcome, "fail")
            out.append(
                f'<td class="cell s-{s}" data-check="{_e(check)}" data-device="{_e(d)}" '
                f'data-status="{s}" title="{_e(r.message)}">{_e(r.outcome)}</td>'
            )
        out.append("</tr>")
    out.append("</table>")
    return "\n".join(out)


def _num(value: float | None) -> str:
    if value is None or not math.isfinite(value):
        return "–"
    return f"{value:.3g}"


def _failure(r: CaseResult) -> str:
    s = _STATUS_OF.get(r.outcome, "fail")
    out = [
        f'<div class="failure" data-id="{_e(r.id)}" data-device="{_e(r.device)}" '
        f'data-status="{s}">',
        f'<b><code>{_e(r.id)}</code></b> on {_e(r.device)}: '
        f'<span class="s-{s}">{_e(r.outcome)}</span>',
        f'<div class="msg">{_e(r.message)}</div>',
    ]
    if r.kind != "runtime":
        shapes = ", ".join(f"{k} {v}" for k, v in r.shapes.items()) or "–"
        out.append(f"<div>inputs: <code>{_e(shapes)}</code></div>")
        if r.attrs:
            attrs = ", ".join(f"{k}={v}" for k, v in r.attrs.items())
            out.append(f"<div>attributes: <code>{_e(attrs)}</code></div>")
        out.append(
            f'<div>max abs error <span class="max-abs">{_num(r.max_abs_err)}</span>, '
            f'max rel error <span class="max-rel">{_num(r.max_rel_err)}</span></div>'
        )
        if r.samples:
            out.append('<table class="samples"><tr><th>output</th><th>index</th>'
                       "<th>expected</th><th>got</th></tr>")
            for smp in r.samples:
                out.append(
                    f"<tr><td>{_e(smp.get('output', ''))}</td><td>{_e(smp.get('index'))}</td>"
                    f"<td>{_e(smp.get('expected'))}</td><td>{_e(smp.get('got'))}</td></tr>"
                )
            out.append("</table>")
    out.append("</div>")
    return "\n".join(out)


def render(report: Report, title: str = "xhal conformance") -> str:
    """The whole page as a string."""
    ops = [r for r in report.results if r.kind != "runtime"]
    rt = [r for r in report.results if r.kind == "runtime"]
    counts = report.counts()
    when = datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
    parts = [
        "<!DOCTYPE html>",
        '<html lang="en"><head><meta charset="utf-8">',
        f"<title>{_e(title)}</title>",
        f"<style>\n{_css()}\n</style></head><body>",
        f"<h1>{_e(title)}</h1>",
        f"<p>{_e(when)}. <b>{report.passed} passed, {report.failed} failed</b>, "
        f"{report.unsupported} unsupported"
        + (f", {report.no_device} no-device" if report.no_device else "")
        + ". Outcomes: "
        + ", ".join(f"{n} {_e(o)}" for o, n in sorted(counts.items()))
        + "</p>",
        '<p class="legend">'
        + "".join(f'<span class="s-{s}">{s}</span>' for s in STATUS_ORDER)
        + "</p>",
        "<h2>Devices</h2><ul>",
    ]
    for d in report.devices:
        props = d.get("properties", {})
        parts.append(
            f"<li><b>{_e(d.get('name'))}</b> ({_e(d.get('device_type'))}) "
            f"{_e(props.get('name', ''))} <code>{_e(d.get('plugin_path', ''))}</code></li>"
        )
    parts.append("</ul>")
    if ops:
        parts.append("<h2>Ops: op × dtype per device</h2>"
                     "<p>Cell: passed/total cases, coloured by the worst outcome.</p>")
        for device in dict.fromkeys(r.device for r in ops):
            parts.append(_matrix(ops, device))
    if rt:
        parts.append("<h2>Runtime checks</h2><p>The device interface "
                     "(<code>xhal-runtime-check</code>); hover a cell for its message.</p>")
        parts.append(_runtime_table(rt))
    failures = [r for r in report.results if r.failed]
    parts.append(f"<h2>Failures ({len(failures)})</h2>")
    parts += [_failure(r) for r in failures[:MAX_FAILURES]]
    if len(failures) > MAX_FAILURES:
        parts.append(f"<p>… {len(failures) - MAX_FAILURES} more (see the JSON report)</p>")
    parts.append("</body></html>")
    return "\n".join(parts) + "\n"


def write_html(report: Report, path: str | Path) -> None:
    Path(path).write_text(render(report), encoding="utf-8")
