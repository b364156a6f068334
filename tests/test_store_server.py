"""The dense store against a real Chroma server (`chroma run`) instead of the embedded client."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from helpers import VENV_BIN, background_server, clean_env, free_port, make_settings
from imr_rag.library import Library
from imr_rag.schema import SearchFilters

pytestmark = pytest.mark.slow
STARTUP_TIMEOUT = 60.0


@pytest.fixture(scope="module")
def chroma_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    exe = VENV_BIN / "chroma"
    if not exe.exists():
        pytest.skip(f"chroma executable not found next to {VENV_BIN}")
    root = tmp_path_factory.mktemp("chroma-server")
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    log = root / "server.log"
    command = [str(exe), "run", "--path", str(root / "db"), "--host", "127.0.0.1", "--port", str(port)]
    with background_server(command, ready_url=f"{url}/api/v2/heartbeat", log=log, timeout=STARTUP_TIMEOUT,
                           name="chroma server", env=clean_env(ANONYMIZED_TELEMETRY="False")):
        yield url


def test_ingest_and_search_through_a_chroma_server(chroma_url: str, synthetic_paths: list[Path], tmp_path: Path) -> None:
    settings = make_settings(tmp_path / "data", chroma_url=chroma_url, collection="server_test")
    with Library(settings) as lib:
        report = lib.ingest(list(synthetic_paths))
        assert not report.failed and len(report.ingested) == len(synthetic_paths)
        assert lib.dense.location == chroma_url
        assert lib.dense.count() == lib.stats()["chunks_embedded"] == report.chunks_embedded
        assert lib.stats()["dense_store"] == chroma_url
        # The embedded store was not used: nothing was written under the data dir's chroma folder.
        assert not settings.chroma_path.exists()

        hits = lib.search("semi-electric hospital bed rental", k=3, mode="dense")
        assert hits and hits[0].case_number == "CM99-0000008"
        hits = lib.search("carpal tunnel release", k=5, mode="dense", filters=SearchFilters(letter_format="tx_iro"))
        assert hits and all(h.letter_format == "tx_iro" for h in hits)
        assert Path(hits[0].source).name == "tx_iro_upheld.txt"

        again = lib.ingest(list(synthetic_paths))
        assert len(again.unchanged) == len(synthetic_paths) and again.chunks_embedded == 0
        assert lib.dense.count() == lib.stats()["chunks_embedded"]

    # A second client (another process, say) sees the same vectors on the server.
    with Library(settings) as other:
        assert other.dense.count() == report.chunks_embedded
        assert other.search("Lyrica neuropathic pain", k=1, mode="dense")[0].case_number == "CM99-0000001"


def test_unreachable_server_is_a_clear_error(tmp_path: Path) -> None:
    from imr_rag.errors import StoreUnavailable

    url = f"http://127.0.0.1:{free_port()}"
    with Library(make_settings(tmp_path / "data", chroma_url=url)) as lib:
        lib.ingest([], embed=False)
        with pytest.raises(StoreUnavailable, match="127.0.0.1"):
            lib.dense.count()


def test_a_server_that_dies_mid_embed_degrades_to_lexical_with_a_note(synthetic_paths: list[Path], tmp_path: Path) -> None:
    from helpers import run_cli

    exe = VENV_BIN / "chroma"
    if not exe.exists():
        pytest.skip(f"chroma executable not found next to {VENV_BIN}")
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    command = [str(exe), "run", "--path", str(tmp_path / "db"), "--host", "127.0.0.1", "--port", str(port)]
    settings = make_settings(tmp_path / "data", chroma_url=url, collection="dies")
    first, rest = list(synthetic_paths)[:3], list(synthetic_paths)[3:]
    with background_server(command, ready_url=f"{url}/api/v2/heartbeat", log=tmp_path / "server.log",
                           timeout=STARTUP_TIMEOUT, name="chroma server",
                           env=clean_env(ANONYMIZED_TELEMETRY="False")) as server:
        with Library(settings) as lib:
            assert lib.ingest(first).embed_error is None

            def kill_server(stage: str, done: int, total: int) -> None:
                if stage == "embed" and done == 0:
                    server.kill()
                    server.wait(timeout=15)

            report = lib.ingest(rest, progress=kill_server)
    assert report.embed_error and url in report.embed_error and "imr-rag embed" in report.embed_error
    assert len(report.ingested) == len(rest)

    env_dir = tmp_path / "data"
    result = run_cli(["--chroma-url", url, "search", "semi-electric hospital bed rental"], data_dir=env_dir, cwd=tmp_path)
    assert result.returncode == 0 and "Traceback" not in result.stderr, result.stderr
    assert "warning: the dense store is unavailable" in result.stderr and "CM99-0000008" in result.stdout
    result = run_cli(["--chroma-url", url, "ask", "Was the request for Lyrica 75mg #60 upheld or overturned?"],
                     data_dir=env_dir, cwd=tmp_path)
    assert result.returncode == 0 and "Traceback" not in result.stderr, result.stderr
    assert "overturned" in result.stdout.lower() and "Note: the dense store is unavailable" in result.stdout
    result = run_cli(["--chroma-url", url, "embed"], data_dir=env_dir, cwd=tmp_path)
    assert result.returncode == 1 and "Traceback" not in result.stderr and url in result.stderr
