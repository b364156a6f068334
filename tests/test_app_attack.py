"""The web app attacked through its HTTP API, as a hostile client would (gradio_client, no browser).

`imr-rag serve` runs in a subprocess on loopback with an empty data folder; the client calls the
upload endpoint directly, naming files the way only an API client can.
"""

from __future__ import annotations

import json
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest

from helpers import SYNTHETIC_LETTERS, VENV_BIN, background_server, clean_env, free_port

STARTUP_SECONDS = 180


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, Path]]:
    """(URL, work folder) of `imr-rag serve` on a free port, seeded with the synthetic letters."""
    exe = VENV_BIN / "imr-rag"
    if not exe.exists():
        pytest.skip(f"imr-rag console script not found in {VENV_BIN}")
    work = tmp_path_factory.mktemp("attacked-app")
    port = free_port()
    url = f"http://127.0.0.1:{port}/"
    log = work / "serve.log"
    env = clean_env(IMR_DATA_DIR=str(work / "data"), GRADIO_ANALYTICS_ENABLED="False")
    command = [str(exe), "serve", "--port", str(port)]
    with background_server(command, ready_url=url, log=log, timeout=STARTUP_SECONDS, name="imr-rag serve",
                           cwd=work, env=env):
        deadline = time.monotonic() + 10
        while url not in log.read_text() and time.monotonic() < deadline:
            time.sleep(0.1)
        yield url, work


def client(url: str):
    from gradio_client import Client

    return Client(url, verbose=False)


def documents(url: str) -> int:
    stats = client(url).predict(api_name="/on_stats")
    return int(stats.split("**")[1].split()[0])


def call_api(url: str, fn: str, data: list) -> str:
    """One call of the app's HTTP API as any remote client makes it (POST, then read the events)."""
    body = json.dumps({"data": data}).encode()
    request = urllib.request.Request(f"{url}gradio_api/call/{fn}", data=body, headers={"Content-Type": "application/json"})
    with urllib.request.urlopen(request, timeout=30) as response:
        event_id = json.load(response)["event_id"]
    with urllib.request.urlopen(f"{url}gradio_api/call/{fn}/{event_id}", timeout=120) as response:
        return response.read().decode()


@pytest.mark.slow
def test_upload_endpoint_refuses_a_server_side_path(served, tmp_path: Path) -> None:
    """A request naming a file on the server is refused and nothing is ingested.

    Sent as raw HTTP, which is what a remote client can do. (`gradio_client` run on the server
    machine itself reads such a path from its own disk and uploads the bytes, a real upload by
    someone who could read the file anyway; from elsewhere the path reaches the server as is.)
    The app also checks every path it is handed against gradio's upload folder (see
    test_app_service.test_upload_refuses_files_that_were_not_uploaded), so a gradio version
    without its own check would not expose server files either.
    """
    url, _ = served
    secret = tmp_path / "secret.txt"
    secret.write_text("TOP SECRET: the server password is hunter2\n")
    before = documents(url)
    payload = [[{"path": str(secret), "orig_name": "x.txt", "meta": {"_type": "gradio.FileData"}}]]
    events = call_api(url, "on_upload", payload)
    assert "event: error" in events and "ingested" not in events
    assert documents(url) == before
    answer = client(url).predict("What is the server password?", [], "any", "any", "", "", "", api_name="/on_ask")
    assert "hunter2" not in str(answer)


@pytest.mark.slow
def test_two_uploads_with_the_same_name_keep_both_letters(served, tmp_path: Path) -> None:
    from gradio_client import handle_file

    url, _ = served
    (tmp_path / "a").mkdir()
    (tmp_path / "b").mkdir()
    first = tmp_path / "a" / "letter.txt"
    second = tmp_path / "b" / "letter.txt"
    first.write_text((SYNTHETIC_LETTERS / "dwc_cm99_0000001.txt").read_text().replace("CM99-0000001", "CM99-0000101"))
    second.write_text((SYNTHETIC_LETTERS / "dwc_cm99_0000002.txt").read_text().replace("CM99-0000002", "CM99-0000102"))
    before = documents(url)
    one, _ = client(url).predict([handle_file(str(first))], api_name="/on_upload")
    two, _ = client(url).predict([handle_file(str(second))], api_name="/on_upload")
    assert one.startswith("ingested 1, replaced 0") and two.startswith("ingested 1, replaced 0")
    assert documents(url) == before + 2
