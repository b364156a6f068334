"""Typed errors. Each carries the file (or endpoint) and a one-line reason.

`redact` is the one function that keeps secrets out of messages; it is applied where a message
leaves the program (CLI output, rows the catalog stores, what the web app shows), and to the
endpoint names the errors themselves carry.
"""

from __future__ import annotations

import errno
import os
import re
import sqlite3
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from urllib.parse import quote, unquote

REDACTED = "***"
# RFC 3986: the authority follows "//" and ends at the first "/", "?" or "#"; its user-info is
# everything before the authority's LAST "@" (a password may hold "@" and ":"; HTTP clients take the
# last "@" too). Characters no URL may hold (space, quotes, angle brackets) end it as well, so a URL
# quoted in a message ("Invalid URL 'http://...'") stops at its closing quote.
_URL_AUTHORITY = re.compile(r"(?i)((?:\b[a-z][a-z0-9+.-]*:)?//)([^\s/?#\"<>`]*)")
# The same user:password@ with no scheme (a netloc echoed alone, "host='alice:pw@db:5432'"): a word,
# a colon, then anything up to the last "@" before a host.
_BARE_USERINFO = re.compile(r"(?<![\w.+~%-])[\w.~%!$&*+,;=-]+:[^\s/?#\"'<>`]*@(?=[\w\[])")
_KEY_PARAMETER = re.compile(r"(?i)\b((?:api[_-]?key|key|access[_-]?token|token|password|secret)=)[^&\s\"']+")
_BEARER = re.compile(r"(?i)\b(bearer\s+)[a-z0-9._~+/=-]{8,}")
_PROVIDER_KEY = re.compile(r"\b(?:sk|pk|rk)-[A-Za-z0-9_-]{12,}")
MIN_SECRET = 4  # shorter values would blank out ordinary words


def redact(text: str, secrets: Iterable[str | None] = ()) -> str:
    """`text` without credentials: the user-info (user:password) of any URL, with or without its
    scheme, api_key=/token= query values, bearer tokens and provider-style keys (sk-...), and each
    of the given secret values (the configured API key, say) as written, percent-decoded or
    percent-encoded, wherever it appears."""
    for secret in sorted(_spellings(secrets), key=len, reverse=True):
        text = text.replace(secret, REDACTED)
    text = _URL_AUTHORITY.sub(_without_userinfo, text)
    text = _BARE_USERINFO.sub(f"{REDACTED}@", text)
    text = _KEY_PARAMETER.sub(rf"\1{REDACTED}", text)
    text = _BEARER.sub(rf"\1{REDACTED}", text)
    return _PROVIDER_KEY.sub(REDACTED, text)


def _without_userinfo(match: re.Match) -> str:
    start, authority = match.group(1), match.group(2)
    _, at, host = authority.rpartition("@")  # the user-info goes whole: user name and password
    return f"{start}{REDACTED}@{host}" if at else match.group(0)


def _spellings(secrets: Iterable[str | None]) -> set[str]:
    """Each secret as a message may carry it: as configured, percent-decoded (an HTTP client shows
    `pw%40x` as `pw@x`) and percent-encoded (or the other way round)."""
    forms = set()
    for secret in secrets:
        if secret:
            forms |= {secret, unquote(secret), quote(secret, safe=""), quote(unquote(secret), safe="")}
    return {form for form in forms if len(form) >= MIN_SECRET}


class ImrError(Exception):
    """Base class for errors the CLI reports as one line instead of a traceback."""

    spend = None
    """What an LLM call cost before it failed (imr_rag.extract.llm.LLMSpend), so failed letters
    are still accounted for."""


class UnreadableDocument(ImrError):
    """A file could not be turned into text."""

    def __init__(self, path: str, reason: str):
        super().__init__(f"{path}: {reason}")
        self.path = path
        self.reason = reason


class DataDirUnavailable(ImrError):
    """The data folder cannot be created, written or its catalog opened."""

    template = "cannot use the data folder {path}: {reason} (choose another with --data-dir or IMR_DATA_DIR)"

    def __init__(self, path: str, reason: str):
        super().__init__(self.template.format(path=path, reason=reason))
        self.path = path
        self.reason = reason


class DataDirNotWritable(DataDirUnavailable):
    """A write to the data folder failed for want of room or permission (disk full, quota,
    read-only file system). The unit of work in flight was rolled back; a later run redoes it."""

    template = "cannot write to the data folder {path}: {reason}"


# Why a write fails with the folder, not the program, at fault. EFBIG is a process's file-size
# limit (RLIMIT_FSIZE), which the disk being full looks like to that process. (A folder closed to
# this user is found when the catalog is opened: DataDirUnavailable.)
_WRITE_ERRNOS = {errno.ENOSPC, errno.EDQUOT, errno.EROFS, errno.EFBIG}
# SQLite reports the same conditions by result code; an I/O error may hide either of them.
_SQLITE_WRITE_CODES = ("SQLITE_FULL", "SQLITE_READONLY", "SQLITE_IOERR", "SQLITE_CANTOPEN")
LOW_SPACE_BYTES = 1 << 20  # less free than this: a failed write was for want of room


def write_failure(folder: str | os.PathLike, exc: BaseException) -> DataDirNotWritable | None:
    """The typed error for `exc` raised by a write in `folder`, or None when `exc` is not a failed
    write (a bug, a locked database): those go on as they are."""
    if isinstance(exc, DataDirNotWritable):
        return exc
    if isinstance(exc, OSError) and exc.errno in _WRITE_ERRNOS:
        return DataDirNotWritable(str(folder), _folder_problem(folder) or (exc.strerror or str(exc)).lower())
    code = getattr(exc, "sqlite_errorname", None) or ""
    if isinstance(exc, sqlite3.Error) and code.startswith(_SQLITE_WRITE_CODES):
        full = os.strerror(errno.ENOSPC).lower() if code == "SQLITE_FULL" else None
        return DataDirNotWritable(str(folder), _folder_problem(folder) or full or str(exc))
    return None


@contextmanager
def refused_writes(folder: str | os.PathLike) -> Iterator[None]:
    """Inside: a write `folder` refuses (see write_failure) raises DataDirNotWritable naming it."""
    try:
        yield
    except (OSError, sqlite3.Error) as exc:
        if (failure := write_failure(folder, exc)) is None:
            raise
        raise failure from exc


def _folder_problem(folder: str | os.PathLike) -> str | None:
    """'read-only file system' or 'no space left on device' when the file system of `folder`
    says so (SQLite's "disk I/O error" names neither), else None."""
    try:
        stats = os.statvfs(folder)
    except OSError:
        return None
    if stats.f_flag & os.ST_RDONLY:
        return os.strerror(errno.EROFS).lower()
    if stats.f_bavail * stats.f_frsize < LOW_SPACE_BYTES:
        return os.strerror(errno.ENOSPC).lower()
    return None


class ExtractionFailed(ImrError):
    """A letter was read but no decision record could be produced from it."""

    def __init__(self, path: str, reason: str):
        super().__init__(f"{path}: {reason}")
        self.path = path
        self.reason = reason


class LLMUnavailable(ImrError):
    """The configured LLM endpoint could not answer (after retries)."""


class StoreUnavailable(ImrError):
    """The Chroma store could not be opened or reached."""


class InvalidFilter(ImrError, ValueError):
    """A filter that cannot be applied as given (an impossible date, an unknown outcome): refused,
    never dropped or changed."""

    def __init__(self, name: str, reason: str):
        super().__init__(f"{name} {reason}")
        self.name = name
        self.reason = reason
