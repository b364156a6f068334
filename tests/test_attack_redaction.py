"""A password inside a URL never shows, whatever the URL's shape (issue 18, item 3).

The user-info of a URL is everything before the LAST "@" of its authority; the attack configured
`http://alice:pw@Zq9Lx7@host/v1` and saw `Zq9Lx7` in the output and the catalog. The table below
holds the URL shapes a message can carry; the end-to-end test points the LLM at a closed port with
such a password and reads every output and every text column of the catalog.
"""

from __future__ import annotations

import sqlite3
import subprocess
from pathlib import Path
from urllib.parse import unquote

import pytest
from helpers import SYNTHETIC_LETTERS, VENV_BIN, clean_env, free_port

from imr_rag.errors import redact

MIN_LEAK = 3  # no piece of a password this long may survive


def pieces(secret: str) -> set[str]:
    """Every substring of `secret` (and of its percent-decoded form) of MIN_LEAK characters or more."""
    forms = {secret, unquote(secret)}
    return {f[i:j] for f in forms for i in range(len(f)) for j in range(i + MIN_LEAK, len(f) + 1)}


def leaked(text: str, secret: str) -> list[str]:
    return sorted(p for p in pieces(secret) if p in text)


# (message carrying the URL, the password as written in it, what must stay readable)
SHAPES = [
    pytest.param("LLM endpoint http://alice:pw@Zq9Lx7@host.example/v1: Connection error.", "pw@Zq9Lx7",
                 ["host.example/v1", "Connection error."], id="at-in-password"),
    pytest.param("https://alice:Qm:7x:Rz@host.example:8443/v1 refused", "Qm:7x:Rz",
                 ["host.example:8443/v1", "refused"], id="colons-in-password"),
    pytest.param("GET http://alice:pw%40Zq9Lx7@host.example/v1/chat", "pw%40Zq9Lx7",
                 ["host.example/v1/chat"], id="percent-encoded-at"),
    pytest.param("http://alice:Пароль@Жук9@host.example/v1 failed", "Пароль@Жук9",
                 ["host.example/v1"], id="unicode"),
    pytest.param("http://alice:Kv@Tn8@[::1]:8080/v1 unreachable", "Kv@Tn8",
                 ["[::1]:8080/v1"], id="ipv6-host-and-port"),
    pytest.param("cannot reach http://alice:Kv@Tn8@10.0.0.7:8080", "Kv@Tn8",
                 ["10.0.0.7:8080"], id="no-path"),
    pytest.param("Invalid URL 'http://alice:Kv@Tn8@host.example:99': bad port", "Kv@Tn8",
                 ["host.example:99'", "bad port"], id="quoted-in-message"),
    pytest.param("http://alice:Kv@Tn8@host.example?model=m", "Kv@Tn8",
                 ["host.example?model=m"], id="query-after-authority"),
    pytest.param("http://alice:Kv@Tn8@host.example#frag", "Kv@Tn8", ["host.example#frag"], id="fragment"),
    pytest.param("connecting to alice:Kv@Tn8@host.example:8080 failed", "Kv@Tn8",
                 ["host.example:8080 failed"], id="netloc-without-scheme"),
    pytest.param("//alice:Kv@Tn8@host.example/v1", "Kv@Tn8", ["host.example/v1"], id="scheme-relative"),
    pytest.param('{"base_url": "http://alice:Kv@Tn8@host.example/v1", "contact": "x@y.org"}', "Kv@Tn8",
                 ['host.example/v1"', '"x@y.org"'], id="json"),
    pytest.param("('http://:Kv@Tn8@host.example/v1',)", "Kv@Tn8", ["host.example/v1'"], id="empty-user-in-repr"),
    pytest.param("HTTPS://alice:Kv@Tn8@host.example/v1/@me", "Kv@Tn8", ["host.example/v1/@me"], id="at-in-path"),
    pytest.param("http://alice:a!b$c&d'e(f)g*h+i,j;k=l@host.example/v1", "a!b$c&d'e(f)g*h+i,j;k=l",
                 ["host.example/v1"], id="sub-delims"),
    pytest.param("first http://alice:Kv@Tn8@one.example/v1 then https://bob:Kv@Tn8@two.example:9/v2", "Kv@Tn8",
                 ["one.example/v1", "two.example:9/v2"], id="two-urls"),
]


@pytest.mark.parametrize("message, password, kept", SHAPES)
def test_no_piece_of_a_url_password_survives_and_the_address_does(message: str, password: str, kept: list[str]) -> None:
    for secrets in ([], [password]):  # the catalog redacts without the settings' secrets, the CLI with them
        cleaned = redact(message, secrets)
        assert leaked(cleaned, password) == [], cleaned
        for part in kept:
            assert part in cleaned, cleaned


def test_a_configured_password_is_hidden_decoded_and_encoded_outside_any_url() -> None:
    # An HTTP client may show the password decoded, or a proxy echo it percent-encoded.
    for shown in ("user pw@Zq9Lx7 refused", "user pw%40Zq9Lx7 refused"):
        cleaned = redact(shown, ["pw%40Zq9Lx7"])
        assert leaked(cleaned, "pw%40Zq9Lx7") == [] and "refused" in cleaned, cleaned


def test_ordinary_text_is_left_alone() -> None:
    text = "Note: bob@example.com called at 10:30 about CM16-0232543; see http://host.example/v1/@me"
    assert redact(text) == text


# -- end to end: a closed LLM port, a password with "@" in it ----------------------------------
PASSWORD = "pw@Zq9Lx7:Ьq%40Vr"


def catalog_text(db_path: Path) -> str:
    """Every text value of every table of the catalog, joined."""
    values = []
    with sqlite3.connect(db_path) as db:
        tables = [r[0] for r in db.execute("SELECT name FROM sqlite_master WHERE type = 'table'")]
        for table in tables:
            for row in db.execute(f'SELECT * FROM "{table}"'):
                values += [v for v in row if isinstance(v, str)]
    return "\n".join(values)


@pytest.mark.slow
def test_llm_failures_never_show_the_password_in_output_or_catalog(tmp_path: Path) -> None:
    exe = VENV_BIN / "imr-rag"
    if not exe.exists():
        pytest.skip(f"imr-rag console script not found in {VENV_BIN}")
    letters = tmp_path / "letters"
    letters.mkdir()
    for name in ("dwc_cm99_0000001.txt", "dwc_cm99_0000002.txt"):
        (letters / name).write_bytes((SYNTHETIC_LETTERS / name).read_bytes())
    data = tmp_path / "data"
    url = f"http://alice:{PASSWORD}@127.0.0.1:{free_port()}/v1"  # nothing listens there
    env = clean_env(IMR_DATA_DIR=str(data), IMR_LLM_BASE_URL=url, IMR_LLM_HTTP_RETRIES="0",
                    IMR_LLM_MAX_RETRIES="0", IMR_LLM_TIMEOUT="5", GRADIO_ANALYTICS_ENABLED="False")
    commands = [
        ["ingest", "--no-embed", str(letters)],
        ["extract", "--backend", "llm", str(letters)],
        ["-v", "extract", "--backend", "llm", str(letters / "dwc_cm99_0000001.txt")],  # library logs too
        ["ask", "Was the request for physical therapy upheld?"],
        ["doctor"],
    ]
    shown = []
    for args in commands:
        result = subprocess.run([str(exe), *args], cwd=tmp_path, env=env, capture_output=True, text=True, timeout=300)
        assert "Traceback" not in result.stderr, result.stderr
        shown.append(f"$ imr-rag {' '.join(args)}\n{result.stdout}{result.stderr}")
    output = "\n".join(shown)
    assert "127.0.0.1" in output  # the failures name the endpoint, without its password
    assert leaked(output, PASSWORD) == [], output
    assert leaked(catalog_text(data / "catalog.sqlite"), PASSWORD) == []
