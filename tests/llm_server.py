"""A scripted OpenAI-compatible server for tests: real HTTP, real SDK, no model.

Tests `enqueue()` what the next chat request gets back, then inspect `requests` (the parsed
JSON bodies, in order) and `reported_usage` (the usage the server put in each answer):

    with scripted_llm_server() as llm:
        llm.enqueue({"service": "..."})          # a tool call with these arguments
        llm.enqueue("not json")                  # raw assistant content
        llm.enqueue(HTTPError(429))              # an error status
        llm.enqueue(Delay(2.0))                  # no answer before the client times out
        client = OpenAI(base_url=llm.base_url, api_key="x")

A dict answer becomes a tool call named after the request's tool when the request offers tools,
and JSON content otherwise (JSON / JSON_SCHEMA / MD_JSON modes). POST /v1/embeddings answers
every request with deterministic hashed bag-of-words vectors and uses no script.
"""

from __future__ import annotations

import base64
import hashlib
import json
import re
import struct
import threading
import time
from collections import deque
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

EMBEDDING_DIM = 64


@dataclass
class Reply:
    """An answer: tool-call arguments (dict) or assistant content (str), with its usage."""

    body: dict[str, Any] | str
    prompt_tokens: int | None = None  # None: about a quarter of the request's characters
    completion_tokens: int | None = None  # None: about a quarter of the answer's characters
    finish_reason: str | None = None


@dataclass
class HTTPError:
    """Answer with an error status (429, 500...) and an OpenAI-style error body."""

    status: int
    message: str = "scripted error"
    headers: dict[str, str] = field(default_factory=dict)


@dataclass
class Delay:
    """Wait `seconds` (longer than the client timeout, say), then send `then` if still wanted."""

    seconds: float
    then: Reply | HTTPError | None = None


Scripted = Reply | HTTPError | Delay


class ScriptedLLMServer:
    """Threaded HTTP server on 127.0.0.1 (free port) answering from a queue of scripted replies."""

    def __init__(self, model: str = "scripted-model") -> None:
        self.model = model
        self.requests: list[dict[str, Any]] = []
        self.embedding_requests: list[dict[str, Any]] = []
        self.reported_usage: list[dict[str, int]] = []
        self.unscripted = 0  # chat requests that arrived with an empty queue
        self._queue: deque[Scripted] = deque()
        self._lock = threading.Lock()
        self._stopping = threading.Event()
        self._httpd = ThreadingHTTPServer(("127.0.0.1", 0), _handler_for(self))
        self._httpd.daemon_threads = True
        self._thread = threading.Thread(target=self._httpd.serve_forever, daemon=True)

    @property
    def base_url(self) -> str:
        host, port = self._httpd.server_address[:2]
        return f"http://{host}:{port}/v1"

    def enqueue(self, *responses: dict[str, Any] | str | Scripted) -> None:
        """Queue answers for the next chat requests; a dict or str is wrapped in a Reply."""
        with self._lock:
            for response in responses:
                is_plain = isinstance(response, dict | str)
                self._queue.append(Reply(response) if is_plain else response)

    @property
    def pending(self) -> int:
        return len(self._queue)

    def total_reported_usage(self) -> dict[str, int]:
        keys = ("prompt_tokens", "completion_tokens", "total_tokens")
        return {k: sum(u[k] for u in self.reported_usage) for k in keys}

    def start(self) -> ScriptedLLMServer:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stopping.set()
        self._httpd.shutdown()
        self._httpd.server_close()
        self._thread.join(timeout=5)

    # -- answering -------------------------------------------------------------------------

    def _next(self, request: dict[str, Any]) -> Scripted:
        with self._lock:
            self.requests.append(request)
            if self._queue:
                return self._queue.popleft()
            self.unscripted += 1
        return HTTPError(500, "scripted server: no response enqueued")

    def _chat_answer(self, request: dict[str, Any], reply: Reply) -> dict[str, Any]:
        tool = _tool_name(request)
        if isinstance(reply.body, dict) and tool:
            arguments = json.dumps(reply.body)
            message = {
                "role": "assistant",
                "content": None,
                "tool_calls": [{
                    "id": f"call_{len(self.requests)}",
                    "type": "function",
                    "function": {"name": tool, "arguments": arguments},
                }],
            }
            produced, finish = arguments, "tool_calls"
        else:
            content = json.dumps(reply.body) if isinstance(reply.body, dict) else reply.body
            message = {"role": "assistant", "content": content}
            produced, finish = content, "stop"
        usage = self._usage(request, reply, produced)
        return {
            "id": f"chatcmpl-{len(self.requests)}",
            "object": "chat.completion",
            "created": int(time.time()),
            "model": request.get("model", self.model),
            "choices": [{
                "index": 0,
                "message": message,
                "finish_reason": reply.finish_reason or finish,
                "logprobs": None,
            }],
            "usage": usage,
        }

    def _usage(self, request: dict[str, Any], reply: Reply, produced: str) -> dict[str, int]:
        prompt = reply.prompt_tokens
        if prompt is None:
            prompt = max(1, len(json.dumps(request.get("messages", []))) // 4)
        completion = reply.completion_tokens
        if completion is None:
            completion = max(1, len(produced) // 4)
        usage = {
            "prompt_tokens": prompt,
            "completion_tokens": completion,
            "total_tokens": prompt + completion,
        }
        with self._lock:
            self.reported_usage.append(usage)
        return usage

    def _embeddings_answer(self, request: dict[str, Any]) -> dict[str, Any]:
        with self._lock:
            self.embedding_requests.append(request)
        inputs = request.get("input", [])
        texts = [inputs] if isinstance(inputs, str) else list(inputs)
        as_base64 = request.get("encoding_format") == "base64"
        data = []
        for index, text in enumerate(texts):
            vector = embedding_vector(str(text))
            encoded: Any = vector
            if as_base64:
                encoded = base64.b64encode(struct.pack(f"<{len(vector)}f", *vector)).decode()
            data.append({"object": "embedding", "index": index, "embedding": encoded})
        tokens = sum(len(str(t).split()) for t in texts)
        return {
            "object": "list",
            "data": data,
            "model": request.get("model", self.model),
            "usage": {"prompt_tokens": tokens, "total_tokens": tokens},
        }


def embedding_vector(text: str, dim: int = EMBEDDING_DIM) -> list[float]:
    """Deterministic, L2-normalised hashed bag of words: texts sharing words are similar."""
    vector = [0.0] * dim
    for word in re.findall(r"\w+", text.lower()):
        digest = hashlib.sha256(word.encode()).digest()
        bucket = int.from_bytes(digest[:4], "little") % dim
        vector[bucket] += 1.0 if digest[4] & 1 else -1.0
    norm = sum(v * v for v in vector) ** 0.5
    if norm == 0:
        vector[0], norm = 1.0, 1.0
    return [v / norm for v in vector]


def _tool_name(request: dict[str, Any]) -> str | None:
    tools = request.get("tools") or []
    if not tools:
        return None
    choice = request.get("tool_choice")
    if isinstance(choice, dict) and choice.get("function", {}).get("name"):
        return choice["function"]["name"]
    return tools[0].get("function", {}).get("name")


def _handler_for(server: ScriptedLLMServer) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, format: str, *args: Any) -> None:  # keep test output quiet
            pass

        def do_GET(self) -> None:
            if self.path.rstrip("/").endswith("/models"):
                self._send(200, {"object": "list", "data": [{"id": server.model, "object": "model"}]})
            else:
                self._send(404, _error_body("not found", 404))

        def do_POST(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            try:
                request = json.loads(self.rfile.read(length) or b"{}")
            except json.JSONDecodeError:
                self._send(400, _error_body("request body is not JSON", 400))
                return
            if self.path.endswith("/embeddings"):
                self._send(200, server._embeddings_answer(request))
            elif self.path.endswith("/chat/completions"):
                self._answer(request, server._next(request))
            else:
                self._send(404, _error_body(f"no route {self.path}", 404))

        def _answer(self, request: dict[str, Any], scripted: Scripted | None) -> None:
            if isinstance(scripted, Delay):
                if server._stopping.wait(scripted.seconds):
                    return
                scripted = scripted.then
            if scripted is None:
                return  # the client has given up by now; close without an answer
            if isinstance(scripted, HTTPError):
                self._send(scripted.status, _error_body(scripted.message, scripted.status),
                           scripted.headers)
            else:
                self._send(200, server._chat_answer(request, scripted))

        def _send(self, status: int, body: dict[str, Any], headers: dict[str, str] | None = None) -> None:
            data = json.dumps(body).encode()
            try:
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                for key, value in (headers or {}).items():
                    self.send_header(key, value)
                self.end_headers()
                self.wfile.write(data)
            except (BrokenPipeError, ConnectionResetError):
                pass  # the client timed out and hung up

    return Handler


def _error_body(message: str, status: int) -> dict[str, Any]:
    return {"error": {"message": message, "type": "scripted_error", "code": status}}


@contextmanager
def scripted_llm_server(model: str = "scripted-model") -> Iterator[ScriptedLLMServer]:
    """Run a ScriptedLLMServer for the duration of a `with` block (or a pytest fixture)."""
    server = ScriptedLLMServer(model).start()
    try:
        yield server
    finally:
        server.stop()
