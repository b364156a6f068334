"""Where the project's top-level folders are: `app.py`, `prompts/` and `evals/`.

In a source checkout they sit beside the package. A wheel carries the same files inside the
package, under `imr_rag/bundle/` (pyproject.toml maps the checkout's top level there at build
time), so an installed tool finds them whatever the current folder is. One lookup serves both.
"""

from __future__ import annotations

from importlib.resources import files
from pathlib import Path

PACKAGE_DIR = Path(str(files("imr_rag")))
BUNDLE_DIR = PACKAGE_DIR / "bundle"


def project_root() -> Path:
    """The folder holding app.py, prompts/ and evals/: the wheel's bundle, else the checkout."""
    return BUNDLE_DIR if (BUNDLE_DIR / "prompts").is_dir() else PACKAGE_DIR.parent


def is_checkout() -> bool:
    """True when running from a source checkout (reports and caches may be written beside it)."""
    return project_root() == PACKAGE_DIR.parent


def prompts_dir() -> Path:
    return project_root() / "prompts"


def app_file() -> Path:
    return project_root() / "app.py"


def evals_dir() -> Path:
    return project_root() / "evals"


def sample_letters() -> Path:
    """The committed synthetic letters (demo's corpus when the shared dev letters are absent)."""
    return evals_dir() / "fixtures" / "synthetic" / "letters"
