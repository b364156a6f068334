"""Pure: a letter's text with labelled spans -> one self-contained HTML page (or fragment)."""

from __future__ import annotations

import html
from dataclasses import dataclass

from imr_rag.schema import Decision

KIND_COLOURS = {
    "service": "#ffe08a",
    "determination": "#9fd9a8",
    "rationale": "#dbe7ff",
    "passage": "#ffd1dc",
}


@dataclass(frozen=True)
class Mark:
    """A span to highlight, with a short label shown on hover and in the margin list."""

    start: int
    end: int
    label: str
    kind: str


def decision_marks(decision: Decision) -> list[Mark]:
    marks: list[Mark] = []
    for n, item in enumerate(decision.items, 1):
        for kind in ("rationale", "determination", "service"):
            ev = getattr(item.evidence, kind)
            if ev is not None:
                marks.append(Mark(ev.start, ev.end, f"item {n} {kind}: {item.determination.value}" if kind == "determination" else f"item {n} {kind}", kind))
    return marks


def highlight_fragment(text: str, marks: list[Mark], *, anchor: str | None = None) -> str:
    """HTML of `text` with each mark wrapped in <mark>; nested marks stay nested.

    Boundaries split the text into segments. Marks are kept open across segments: a mark that
    contains others (a cited passage over a service and its outcome) is one element around them,
    so its outline is drawn once around the whole span, not once per piece with the pieces'
    outlines overlapping its characters. Only a mark that crosses another's edge is split. The
    first element of the mark labelled `anchor` gets id="anchor" so a viewer can scroll to it.
    """
    valid = [m for m in marks if 0 <= m.start < m.end <= len(text)]
    cuts = sorted({0, len(text), *(m.start for m in valid), *(m.end for m in valid)})
    out: list[str] = []
    open_marks: list[Mark] = []
    anchored = False
    for a, b in zip(cuts, cuts[1:]):
        # outermost first: earliest start, then longest, so containing marks come before contained ones
        covering = sorted((m for m in valid if m.start <= a and b <= m.end), key=lambda m: (m.start, -m.end, m.kind))
        keep = 0
        while keep < len(open_marks) and keep < len(covering) and open_marks[keep] is covering[keep]:
            keep += 1
        out.append("</mark>" * (len(open_marks) - keep))
        del open_marks[keep:]
        for m in covering[keep:]:
            attrs = f' class="{m.kind}" title="{html.escape(m.label)}" style="background:{KIND_COLOURS.get(m.kind, "#eee")}"'
            if m.label == anchor and not anchored:
                attrs += ' id="anchor"'
                anchored = True
            out.append(f"<mark{attrs}>")
            open_marks.append(m)
        out.append(html.escape(text[a:b]))
    out.append("</mark>" * len(open_marks))
    return '<div class="letter" style="white-space:pre-wrap;font-family:Georgia,serif;line-height:1.45">' + "".join(out) + "</div>"


def legend_html(*, with_passage: bool) -> str:
    """The colour key of the marks, as <mark> swatches."""
    return " ".join(
        f'<mark style="background:{colour}">{"cited passage" if kind == "passage" else kind}</mark>'
        for kind, colour in KIND_COLOURS.items()
        if with_passage or kind != "passage"
    )


def letter_page(title: str, text: str, marks: list[Mark], decision: Decision | None = None) -> str:
    """A complete HTML page: a legend, the extracted items, and the highlighted letter."""
    legend = legend_html(with_passage=False)
    rows = ""
    if decision is not None:
        rows = "".join(
            f"<tr><td>{n}</td><td>{html.escape(i.service)}</td><td>{i.determination.value}</td>"
            f"<td>{i.category.value}</td><td>{html.escape(', '.join(sorted({g.source for g in i.guidelines})))}</td></tr>"
            for n, i in enumerate(decision.items, 1)
        )
        rows = (
            "<table border=1 cellpadding=4 style='border-collapse:collapse'><tr><th>#</th><th>service</th>"
            f"<th>determination</th><th>category</th><th>guidelines</th></tr>{rows}</table>"
        )
    return (
        "<!DOCTYPE html><html><head><meta charset='utf-8'>"
        f"<title>{html.escape(title)}</title></head><body style='max-width:60em;margin:2em auto'>"
        f"<h1>{html.escape(title)}</h1><p>{legend}</p>{rows}<hr>{highlight_fragment(text, marks)}</body></html>"
    )
