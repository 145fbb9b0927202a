"""One self-contained HTML file: inline CSS, images as base64 data URIs, no script, no links.

The file opens in any browser without lesion-tool, a network or a companion folder. Tables carry
``data-*`` attributes with the unrounded values, so a program can read the numbers back exactly.
"""

from __future__ import annotations

import base64
import html
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

__all__ = [
    "BulletList",
    "Cell",
    "Definitions",
    "Figure",
    "Nav",
    "Note",
    "Preformatted",
    "Section",
    "Table",
    "render_document",
]

CSS = """
body{font-family:"DejaVu Sans",Helvetica,Arial,sans-serif;color:#1d1d1d;margin:0;background:#f4f5f7}
main{max-width:1180px;margin:0 auto;padding:24px 32px 48px;background:#fff}
h1{font-size:1.6em;margin:0 0 4px}
h2{font-size:1.3em;border-bottom:2px solid #1f3b73;padding-bottom:4px;margin-top:40px}
h3{font-size:1.1em;margin-top:28px}
h4{font-size:1em;margin:18px 0 6px;color:#333}
p.meta{color:#555;margin:2px 0}
table{border-collapse:collapse;margin:8px 0 16px;font-size:.86em}
th,td{border:1px solid #d0d4da;padding:4px 8px;text-align:right;vertical-align:top}
th{background:#eef1f6;font-weight:600}
td.l,th.l{text-align:left}
td{white-space:nowrap}
caption{caption-side:top;text-align:left;padding:2px 0}
div.scroll{overflow-x:auto;max-width:100%}
tbody tr:nth-child(even){background:#fafbfc}
figure{margin:12px 0 24px}
figure img{max-width:100%;height:auto;border:1px solid #e4e6ea}
figcaption{font-size:.85em;color:#555;margin-top:4px}
.resp{display:inline-block;min-width:2.6em;padding:1px 5px;border-radius:3px;color:#fff;
 font-weight:600;text-align:center}
.warn{color:#8a4b00}.err{color:#a00000}
nav ul{columns:4;list-style:none;padding:0;margin:4px 0;font-size:.9em}
#contents h2{font-size:1em;border:0;margin-top:16px}
#contents nav ul{columns:auto;display:flex;flex-wrap:wrap;gap:4px 22px}
ul{font-size:.9em}
nav a{color:#1f3b73}
section.patient{border-top:1px solid #d0d4da;margin-top:32px;page-break-before:always}
.note{font-size:.85em;color:#555}
dl{font-size:.9em;max-width:60em}dt{font-weight:600;margin-top:8px}dd{margin:2px 0 0 1.5em}
pre{background:#f6f7f9;border:1px solid #e4e6ea;padding:10px;font-size:.8em;overflow-x:auto}
"""


@dataclass(frozen=True, slots=True)
class Cell:
    """A table cell: text, optional background colour (response badge), data attributes."""

    text: str
    colour: str | None = None
    data: dict[str, str] = field(default_factory=dict)
    left: bool = False


@dataclass(frozen=True, slots=True)
class Table:
    """A table with a header row and body rows; ``table_id`` names it for programs."""

    header: Sequence[str]
    rows: Sequence[Sequence[Cell | str]]
    table_id: str | None = None
    caption: str | None = None
    left_columns: int = 1


@dataclass(frozen=True, slots=True)
class Figure:
    """A PNG image (bytes) with its caption and alternative text."""

    png: bytes
    caption: str
    alt: str


@dataclass(frozen=True, slots=True)
class Note:
    """A paragraph; ``kind`` "note" (grey), "warn" or "err" (red), or "" (plain)."""

    text: str
    kind: str = "note"


@dataclass(frozen=True, slots=True)
class BulletList:
    """An unordered list of plain-text items."""

    items: Sequence[str]


@dataclass(frozen=True, slots=True)
class Definitions:
    """Terms and their plain-words definitions (``<dl>``); ``list_id`` names it for programs."""

    items: Sequence[tuple[str, str]]
    list_id: str | None = None


@dataclass(frozen=True, slots=True)
class Preformatted:
    """Plain text shown as is (monospace), e.g. a command's printed summary."""

    text: str


@dataclass(frozen=True, slots=True)
class Nav:
    """Links to anchors within the document: (anchor, text) pairs."""

    links: Sequence[tuple[str, str]]


@dataclass(slots=True)
class Section:
    """A heading with paragraphs, tables, figures and subsections, rendered in that order."""

    title: str
    anchor: str | None = None
    level: int = 2
    blocks: list[object] = field(default_factory=list)
    css_class: str | None = None


def _e(text: object) -> str:
    return html.escape(str(text), quote=True)


def _cell(cell: Cell | str, column: int, left_columns: int, tag: str = "td") -> str:
    if not isinstance(cell, Cell):
        cell = Cell(str(cell))
    attrs = "".join(f' data-{_e(k)}="{_e(v)}"' for k, v in cell.data.items())
    cls = ' class="l"' if cell.left or column < left_columns else ""
    text = _e(cell.text)
    if cell.colour:
        text = f'<span class="resp" style="background:{_e(cell.colour)}">{text}</span>'
    return f"<{tag}{cls}{attrs}>{text}</{tag}>"


def _table(table: Table) -> str:
    ident = f' id="{_e(table.table_id)}"' if table.table_id else ""
    out = [f'<div class="scroll"><table{ident}>']
    if table.caption:
        out.append(f"<caption class='note'>{_e(table.caption)}</caption>")
    out.append(
        "<thead><tr>"
        + "".join(
            f"<th{' class=l' if i < table.left_columns else ''}>{_e(h)}</th>"
            for i, h in enumerate(table.header)
        )
        + "</tr></thead><tbody>"
    )
    for row in table.rows:
        out.append(
            "<tr>" + "".join(_cell(c, i, table.left_columns) for i, c in enumerate(row)) + "</tr>"
        )
    out.append("</tbody></table></div>")
    return "\n".join(out)


def _figure(fig: Figure) -> str:
    data = base64.b64encode(fig.png).decode("ascii")
    return (
        f'<figure><img alt="{_e(fig.alt)}" src="data:image/png;base64,{data}">'
        f"<figcaption>{_e(fig.caption)}</figcaption></figure>"
    )


def _block(block: object) -> str:
    if isinstance(block, Table):
        return _table(block)
    if isinstance(block, Figure):
        return _figure(block)
    if isinstance(block, Section):
        return _section(block)
    if isinstance(block, BulletList):
        return "<ul>" + "".join(f"<li>{_e(item)}</li>" for item in block.items) + "</ul>"
    if isinstance(block, Definitions):
        ident = f' id="{_e(block.list_id)}"' if block.list_id else ""
        items = "".join(f"<dt>{_e(t)}</dt><dd>{_e(d)}</dd>" for t, d in block.items)
        return f"<dl{ident}>{items}</dl>"
    if isinstance(block, Nav):
        items = "".join(f'<li><a href="#{_e(a)}">{_e(t)}</a></li>' for a, t in block.links)
        return f"<nav><ul>{items}</ul></nav>"
    if isinstance(block, Preformatted):
        return f"<pre>{_e(block.text)}</pre>"
    if isinstance(block, Note):
        cls = f' class="{_e(block.kind)}"' if block.kind else ""
        return f"<p{cls}>{_e(block.text)}</p>"
    return f"<p>{_e(block)}</p>"


def _section(section: Section) -> str:
    level = min(max(section.level, 2), 4)
    ident = f' id="{_e(section.anchor)}"' if section.anchor else ""
    cls = f' class="{_e(section.css_class)}"' if section.css_class else ""
    body = "\n".join(_block(b) for b in section.blocks)
    return f"<section{ident}{cls}><h{level}>{_e(section.title)}</h{level}>\n{body}</section>"


def render_document(title: str, meta_lines: Iterable[str], sections: Sequence[Section]) -> str:
    """The whole report as one HTML5 string (UTF-8), with no external reference of any kind."""
    meta = "".join(f'<p class="meta">{_e(m)}</p>' for m in meta_lines)
    body = "\n".join(_section(s) for s in sections)
    return (
        '<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8">'
        f"<title>{_e(title)}</title><style>{CSS}</style></head>\n"
        f"<body><main><h1>{_e(title)}</h1>{meta}\n{body}\n</main></body></html>\n"
    )
