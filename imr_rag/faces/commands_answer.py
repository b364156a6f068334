"""Commands that answer: ask, serve (the web app) and eval (the scored fixtures)."""

from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path

from imr_rag import layout
from imr_rag.errors import InvalidFilter
from imr_rag.faces.output import EXIT_FAILURES, EXIT_OK, EXIT_USAGE
from imr_rag.settings import Settings
from imr_rag.textutil import printable


def cmd_ask(args: argparse.Namespace, settings: Settings) -> int:
    from imr_rag.ask.engine import ROW_LIMIT, Asker
    from imr_rag.filters import answer_filters
    from imr_rag.library import Library

    try:  # the same rules as the app's filters: refused, never dropped
        filters = answer_filters(
            case_number=args.case_number, letter_format=args.letter_format, determination=args.outcome,
            date_from=args.date_from, date_to=args.date_to,
        )
    except InvalidFilter as exc:
        print(f"imr-rag ask: {printable(str(exc))}", file=sys.stderr)
        return EXIT_USAGE
    with Library(settings) as lib:
        engine = Asker(lib, settings, row_limit=None if args.json else ROW_LIMIT)
        answer = engine.answer(args.question, filters=filters)
        answer.notes += lib.take_notices()
    if args.json:
        keys = ("n", "doc_id", "case_number", "source", "section", "start", "end", "quote")
        print(json.dumps({
            "answer": answer.text,
            "status": answer.status,
            "reading": answer.reading,
            "value": answer.value,
            "kind": answer.kind,
            "mode": answer.mode,
            "notes": answer.notes,
            "citations": [{k: getattr(c, k) for k in keys} for c in answer.citations],
            "plan": answer.plan,
            "counted_total": answer.counted_total,
            "counted": [c.model_dump() for c in answer.counted],
        }, indent=2))
        return EXIT_OK
    for line in answer.text.splitlines():  # letter text: no escape sequence reaches the terminal
        print(printable(line))
    for note in answer.notes:
        print(f"Note: {printable(note)}")
    if answer.citations:
        print()
    for c in answer.citations:
        quote = printable(" ".join(c.quote.split()))
        print(f"[{c.n}] {printable(c.case_number or c.doc_id)} {printable(Path(c.source).name)} {c.start}-{c.end}: "
              f"{quote[:200]}{'...' if len(quote) > 200 else ''}")
    return EXIT_OK


def cmd_serve(args: argparse.Namespace, settings: Settings) -> int:
    import importlib.util

    from imr_rag.faces.app_service import bind_problem, parse_auth

    try:
        auth = parse_auth(args.auth or os.environ.get("IMR_AUTH"))
    except ValueError as exc:
        print(f"imr-rag serve: {exc}", file=sys.stderr)
        return EXIT_USAGE
    if problem := bind_problem(args.host, auth):
        print(f"imr-rag serve: {problem}", file=sys.stderr)
        return EXIT_USAGE
    if (busy := port_in_use(args.host, args.port)) is not None:
        print(f"imr-rag serve: port {args.port} on {args.host} is in use ({busy}); "
              f"pass a free one, e.g. --port {free_port(args.host, args.port)}", file=sys.stderr)
        return EXIT_FAILURES
    app_path = layout.app_file()
    if not app_path.is_file():
        print(f"imr-rag serve: the web app {app_path} is missing; reinstall imr-rag (pipx install .)",
              file=sys.stderr)
        return EXIT_FAILURES
    spec = importlib.util.spec_from_file_location("imr_rag_web_app", app_path)
    app = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(app)  # imports gradio: only now, only for this command
    try:
        app.launch(settings, host=args.host, port=args.port, auth=auth)
    except OSError as exc:  # taken between the check above and gradio's own bind
        print(f"imr-rag serve: cannot listen on {args.host}:{args.port} ({printable(str(exc))}); "
              f"pass a free port, e.g. --port {free_port(args.host, args.port)}", file=sys.stderr)
        return EXIT_FAILURES
    return EXIT_OK


def port_in_use(host: str, port: int) -> str | None:
    """Why `host:port` cannot be bound now (e.g. 'Address already in use'), or None when it can."""
    import socket

    family = socket.AF_INET6 if ":" in host.strip("[]") else socket.AF_INET
    with socket.socket(family, socket.SOCK_STREAM) as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # as the web server binds
        try:
            sock.bind((host.strip("[]"), port))
        except OSError as exc:
            return exc.strerror or str(exc)
    return None


def free_port(host: str, after: int) -> int:
    """The first port above `after` that `host` can bind now (the OS picks one if none of 100 is)."""
    import socket

    for port in range(after + 1, min(after + 101, 65536)):
        if port_in_use(host, port) is None:
            return port
    family = socket.AF_INET6 if ":" in host.strip("[]") else socket.AF_INET
    with socket.socket(family, socket.SOCK_STREAM) as sock:
        sock.bind((host.strip("[]"), 0))
        return sock.getsockname()[1]


def cmd_eval(args: argparse.Namespace, settings: Settings) -> int:
    root = layout.project_root()
    if not (root / "evals" / "__init__.py").is_file():
        print(f"imr-rag eval: the evals/ folder is missing from {root}; reinstall imr-rag (pipx install .)",
              file=sys.stderr)
        return EXIT_USAGE
    if str(root) not in sys.path:
        sys.path.insert(0, str(root))  # evals/ is imported as the top-level package it is in the checkout
    from evals.command import run_command

    return run_command(args, settings)
