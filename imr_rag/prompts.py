"""Prompt templates are files in the top-level `prompts/` folder, with declared variables.

An installed wheel carries that folder inside the package (see `imr_rag.layout`).

A template is a markdown file whose first line declares the variables it takes, and which of
them carry quoted material (letter text, passages, the user's words):

    variables: letter_format; quoted: letter

and whose body is a `string.Template` (`$letter` or `${letter}`; `$$` is a literal dollar).
Rendering fails loudly when the code passes a variable the template does not declare, omits
one it declares, or the body uses one it does not declare.

The body is the system message (the instructions); after a line `--- user ---` comes the user
message. A quoted variable may only stand in the user message, and is rendered inside a fence:

    <<<QUOTED letter 3f9c0a1b2d4e>>>
    ...the letter...
    <<<END QUOTED letter 3f9c0a1b2d4e>>>

The marker is derived from the quoted text and never occurs in it, so a letter cannot close its
own fence; the system message gets `prompts/quoted_material.md`, which tells the model that the
fenced blocks are material to read, never instructions. A letter that says "ignore prior
instructions" is then data on the same footing as any other line of it.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from string import Template

from imr_rag.errors import ImrError
from imr_rag.layout import prompts_dir as bundled_prompts_dir

PROMPTS_DIR = bundled_prompts_dir()
_DECLARATION = re.compile(r"^variables:[ \t]*(?P<names>[^\n;]*?)[ \t]*(?:;?[ \t]*quoted:(?P<quoted>[^\n]*))?\n", re.I)
_USER_PART = re.compile(r"^--- user ---[ \t]*\n", re.MULTILINE)
QUOTED_MATERIAL = "quoted_material"
"""The system-message paragraph that says what the fences are (prompts/quoted_material.md)."""


class PromptError(ImrError, ValueError):
    """A prompt template is missing, malformed, or rendered with the wrong variables."""


@dataclass(frozen=True)
class PromptTemplate:
    """A parsed template: its declared variables and its body."""

    name: str
    variables: frozenset[str]
    quoted: frozenset[str]
    system: Template
    user: Template | None  # None: the whole template is one message


def template_path(name: str, prompts_dir: Path | None = None) -> Path:
    """`extract_decision` -> prompts/extract_decision.md."""
    path = (prompts_dir or PROMPTS_DIR) / f"{name}.md"
    if not path.is_file():
        raise PromptError(f"prompt template '{name}' not found at {path}")
    return path


def load_template(name: str, prompts_dir: Path | None = None) -> PromptTemplate:
    """Read and check a template: declaration present and matching what the body uses."""
    source = template_path(name, prompts_dir).read_text(encoding="utf-8")
    match = _DECLARATION.match(source)
    if match is None:
        raise PromptError(f"prompt '{name}': first line must be 'variables: name, ...'")
    quoted = _name_list(match["quoted"] or "")
    declared = _name_list(match["names"]) | quoted
    parts = _USER_PART.split(source[match.end() :].lstrip("\n"), maxsplit=1)
    system, user = Template(parts[0]), Template(parts[1]) if len(parts) > 1 else None
    if not all(part.is_valid() for part in (system, user) if part):
        raise PromptError(f"prompt '{name}': invalid $-placeholder (write $$ for a dollar sign)")
    used = set(system.get_identifiers()) | set(user.get_identifiers() if user else ())
    if used - declared:
        raise PromptError(f"prompt '{name}' uses undeclared variable(s): {_names(used - declared)}")
    if quoted & set(system.get_identifiers()):
        raise PromptError(f"prompt '{name}': quoted variable(s) {_names(quoted & set(system.get_identifiers()))} "
                          "may only stand in the user message, after '--- user ---'")
    return PromptTemplate(name=name, variables=declared, quoted=quoted, system=system, user=user)


def render_messages(name: str, prompts_dir: Path | None = None, **variables: object) -> list[dict[str, str]]:
    """Fill a template as chat messages; every declared variable must be given and nothing else.

    The system message is the template's instructions (and, when it quotes material, what the
    fences are); the user message holds the fenced material."""
    template = load_template(name, prompts_dir)
    missing = template.variables - variables.keys()
    if missing:
        raise PromptError(f"prompt '{name}' needs variable(s): {_names(missing)}")
    unknown = variables.keys() - template.variables
    if unknown:
        raise PromptError(f"prompt '{name}' does not declare variable(s): {_names(unknown)}")
    values = {k: str(v) for k, v in variables.items()}
    system = template.system.substitute(values)
    if template.user is None:
        return [{"role": "user", "content": system}]
    system = system.rstrip("\n")
    if template.quoted:
        quoted = {k: values[k] for k in sorted(template.quoted)}
        marker = fence_marker(quoted.values())
        values |= {k: fenced(k, v, marker) for k, v in quoted.items()}
        system += "\n\n" + render(QUOTED_MATERIAL, fence=marker, blocks=", ".join(quoted))
    return [{"role": "system", "content": system}, {"role": "user", "content": template.user.substitute(values)}]


def render(name: str, prompts_dir: Path | None = None, **variables: object) -> str:
    """The whole prompt as one text (every message of `render_messages`), e.g. to count its tokens."""
    return "\n".join(m["content"] for m in render_messages(name, prompts_dir, **variables))


def fence_marker(quoted: Iterable[str]) -> str:
    """A marker derived from the quoted text that occurs in none of it: a letter that writes a
    fence line, even one it saw in an earlier prompt, cannot close its own block."""
    texts = list(quoted)
    digest = hashlib.sha256("\x00".join(texts).encode("utf-8", "surrogatepass"))
    while True:
        marker = digest.hexdigest()[:16]
        if not any(marker in text for text in texts):
            return marker
        digest.update(b"\x00")


def fenced(label: str, text: str, marker: str) -> str:
    """`text` between the labelled fence lines that the system message declares."""
    return f"<<<QUOTED {label} {marker}>>>\n{text}\n<<<END QUOTED {label} {marker}>>>"


def prompt_hash(name: str, prompts_dir: Path | None = None) -> str:
    """sha256 of the template file and the fence paragraph it may add, so cached LLM results are
    invalidated when either changes."""
    digest = hashlib.sha256(template_path(name, prompts_dir).read_bytes())
    digest.update(template_path(QUOTED_MATERIAL).read_bytes())
    return digest.hexdigest()


def _names(names: set[str] | frozenset[str]) -> str:
    return ", ".join(sorted(names))


def _name_list(names: str) -> frozenset[str]:
    return frozenset(v.strip() for v in names.split(",") if v.strip())


_END_RAW = re.compile(r"\{%-?\s*endraw\s*-?%\}")


def jinja_literal(text: str) -> str:
    """`text` as a Jinja template that renders to exactly `text`.

    instructor renders message content as a Jinja template whenever a validation context is
    given, so a letter's or a question's own `{{ x }}`, `{% ... %}` or `{# ... #}` would be read
    as template code (`{{ x }}` reached the model as an empty string). A raw block keeps it
    literal; an `{% endraw %}` inside the text is closed around and emitted as a string.
    """
    body = _END_RAW.sub(lambda m: "{% endraw %}{{ " + repr(m.group(0)) + " }}{% raw %}", text)
    return "{% raw %}" + body + "{% endraw %}"
