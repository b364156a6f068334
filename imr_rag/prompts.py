"""Prompt templates are files in the top-level `prompts/` folder, with declared variables.

An installed wheel carries that folder inside the package (see `imr_rag.layout`).

A template is a markdown file whose first line declares the variables it takes:

    variables: letter, letter_format

and whose body is a `string.Template` (`$letter` or `${letter}`; `$$` is a literal dollar).
Rendering fails loudly when the code passes a variable the template does not declare, omits
one it declares, or the body uses one it does not declare.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass
from pathlib import Path
from string import Template

from imr_rag.errors import ImrError
from imr_rag.layout import prompts_dir as bundled_prompts_dir

PROMPTS_DIR = bundled_prompts_dir()
_DECLARATION = re.compile(r"^variables:[ \t]*(?P<names>[^\n]*)\n", re.IGNORECASE)


class PromptError(ImrError, ValueError):
    """A prompt template is missing, malformed, or rendered with the wrong variables."""


@dataclass(frozen=True)
class PromptTemplate:
    """A parsed template: its declared variables and its body."""

    name: str
    variables: frozenset[str]
    body: Template


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
    declared = frozenset(v.strip() for v in match["names"].split(",") if v.strip())
    body = Template(source[match.end() :].lstrip("\n"))
    if not body.is_valid():
        raise PromptError(f"prompt '{name}': invalid $-placeholder (write $$ for a dollar sign)")
    undeclared = set(body.get_identifiers()) - declared
    if undeclared:
        raise PromptError(f"prompt '{name}' uses undeclared variable(s): {_names(undeclared)}")
    return PromptTemplate(name=name, variables=declared, body=body)


def render(name: str, prompts_dir: Path | None = None, **variables: object) -> str:
    """Fill a template; every declared variable must be given and nothing else."""
    template = load_template(name, prompts_dir)
    missing = template.variables - variables.keys()
    if missing:
        raise PromptError(f"prompt '{name}' needs variable(s): {_names(missing)}")
    unknown = variables.keys() - template.variables
    if unknown:
        raise PromptError(f"prompt '{name}' does not declare variable(s): {_names(unknown)}")
    return template.body.substitute({k: str(v) for k, v in variables.items()})


def prompt_hash(name: str, prompts_dir: Path | None = None) -> str:
    """sha256 of the template file, so cached LLM results are invalidated when it changes."""
    return hashlib.sha256(template_path(name, prompts_dir).read_bytes()).hexdigest()


def _names(names: set[str] | frozenset[str]) -> str:
    return ", ".join(sorted(names))


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
