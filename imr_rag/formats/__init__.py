"""Letter formats are plugins registered under the `imr_rag.formats` entry-point group.

A plugin is an object with `name`, `detect(text) -> float` (0..1 confidence),
`sections(text) -> list[Section]`, `case_number(text) -> str | None` and
`parse(document) -> Decision` (the rules parser). The two
built-in formats register through the same entry points as third-party ones (see pyproject.toml).
"""

from __future__ import annotations

from functools import lru_cache
from importlib.metadata import entry_points
from typing import Protocol

from imr_rag.schema import Decision, Document, LetterFormat, Section

ENTRY_POINT_GROUP = "imr_rag.formats"
DETECTION_THRESHOLD = 0.5


class FormatPlugin(Protocol):
    name: str

    def detect(self, text: str) -> float: ...

    def sections(self, text: str) -> list[Section]: ...

    def parse(self, document: Document) -> Decision: ...

    def case_number(self, text: str) -> str | None: ...


class FormatPluginError(RuntimeError):
    """An installed format plugin could not be loaded."""


@lru_cache(maxsize=1)
def registered_formats() -> dict[str, FormatPlugin]:
    """All installed format plugins by name (loaded once per process)."""
    plugins: dict[str, FormatPlugin] = {}
    for ep in entry_points(group=ENTRY_POINT_GROUP):
        try:
            plugin = ep.load()
        except Exception as exc:  # a broken third-party plugin must say which one it is
            raise FormatPluginError(f"format plugin '{ep.name}' ({ep.value}) failed to load: {exc}") from exc
        plugins[plugin.name] = plugin
    if not plugins:
        raise FormatPluginError(
            f"no letter formats registered under '{ENTRY_POINT_GROUP}'; install the package "
            "(pip install -e .) so its entry points exist"
        )
    return plugins


def detect_format(text: str) -> str:
    """Name of the most confident format, or 'unknown' when none is confident enough."""
    best_name, best_score = LetterFormat.unknown.value, DETECTION_THRESHOLD
    for name, plugin in sorted(registered_formats().items()):
        score = plugin.detect(text)
        if score > best_score:
            best_name, best_score = name, score
    return best_name


def get_format(name: str) -> FormatPlugin | None:
    return registered_formats().get(name)


def split_sections(text: str, letter_format: str) -> list[Section]:
    """Sections for a known format; an unknown letter is one 'body' section."""
    plugin = get_format(letter_format)
    if plugin is None:
        return [Section(name="body", start=0, end=len(text))]
    return plugin.sections(text)


def case_number_of(text: str, letter_format: str) -> str | None:
    plugin = get_format(letter_format)
    return plugin.case_number(text) if plugin is not None else None
