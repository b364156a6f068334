"""Text shown in Markdown as the very characters it holds (letter text, file names, reasons)."""

from __future__ import annotations

import re

# Every ASCII punctuation character but the square brackets, which stay as typed so that the
# [n] citation markers read as they are: with "(" and ":" escaped, no bracket can start a link,
# an image or a reference definition.
_MARKDOWN_ACTIVE = re.compile(r"[!-/:-@\\^-`{-~]")


def escape_markdown(text: str) -> str:
    """`text` shown as the very characters it holds: ASCII punctuation is backslash-escaped, so no
    HTML tag, image, link, reference definition, autolink, emphasis or heading in a letter's words
    can take effect in the rendered answer (an `<img src=...>` in a letter would otherwise be
    fetched by every reader's browser, a `[re-authenticate](http://...)` become a clickable link)."""
    return _MARKDOWN_ACTIVE.sub(lambda m: "\\" + m.group(0), text)
