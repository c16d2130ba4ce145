"""A fake Anthropic Messages API on 127.0.0.1 for running the real Claude Code CLI.

The fake speaks the wire format of the real API (JSON and server-sent events)
closely enough for the ``claude`` binary to plan, call tools and finish a turn
without any network. It decides each answer from the request it receives, so
the common end-to-end scenarios need no setup:

- a request that offers the ``StructuredOutput`` tool (``--json-schema``) is
  answered with a call of that tool whose input is built from its schema;
- a request whose prompt contains ``TOOL_MARKER`` and that offers ``Bash`` is
  answered with a ``Bash`` call that writes ``e2e.txt`` in the working
  directory;
- a request whose last turn carries tool results is answered with final text;
- anything else is answered with a short text.

Tests that need something else pass a ``responder`` or queue replies with
``enqueue``. Every request is recorded on the server for assertions.

Run as a script to try the CLI by hand::

    python tests/fakes/anthropic_api.py --port 8765
"""

from __future__ import annotations

import argparse
import contextlib
import itertools
import json
import os
import sys
import threading
from collections import deque
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, TextIO
from urllib.parse import urlsplit

TOOL_MARKER = "[[e2e-tool]]"
"""Prompt marker that makes the default responder call the ``Bash`` tool."""

TOOL_COMMAND = "echo hello > e2e.txt"
"""The shell command the default responder asks ``Bash`` to run."""

FINAL_TEXT = "Done: the task is complete."
"""The text the default responder ends a turn with after tool results."""

DUMMY_API_KEY = "sk-ant-api03-nightshift-e2e-dummy-key"
"""An API key the fake accepts; it is never valid anywhere else."""

OFFLINE_ENV: dict[str, str] = {
    # A plain API key, so the CLI never looks for OAuth credentials and needs
    # no login or onboarding state in HOME.
    "ANTHROPIC_API_KEY": DUMMY_API_KEY,
    # The switch that matters: without it the CLI probes HEAD /api/hello and
    # resolves api.anthropic.com (telemetry, feature flags) even when
    # ANTHROPIC_BASE_URL points elsewhere.
    "CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC": "1",
    # The switches the umbrella above covers, named too so that a version
    # which splits the umbrella still stays quiet.
    "DISABLE_AUTOUPDATER": "1",
    "DISABLE_TELEMETRY": "1",
    "DISABLE_ERROR_REPORTING": "1",
    # A proxy inherited from the developer's shell must not capture the
    # traffic meant for the fake.
    "NO_PROXY": "127.0.0.1,localhost",
    "no_proxy": "127.0.0.1,localhost",
}
"""Environment that keeps the CLI offline, apart from base URL and ``HOME``.

Use ``offline_env`` to get the full set for one server and one home directory.
"""

_PROXY_VARIABLES = ("HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY")


def offline_env(
    base_url: str, home: str, base: dict[str, str] | None = None
) -> dict[str, str]:
    """Return an environment that runs the CLI against ``base_url`` only.

    Args:
        base_url: The fake server's URL, e.g. ``FakeAnthropicAPI.base_url``.
        home: A throwaway directory used as ``HOME``, so the CLI neither reads
            nor writes the real user's configuration.
        base: The environment to start from; defaults to ``os.environ``
            without any proxy or Anthropic/Claude variables.

    Returns:
        A new dict suitable for ``subprocess.run(env=...)``.
    """
    source = dict(os.environ if base is None else base)
    env = {
        key: value
        for key, value in source.items()
        if not key.startswith(("ANTHROPIC_", "CLAUDE_", "CLAUDECODE"))
        and key.upper() not in _PROXY_VARIABLES
    }
    env.update(OFFLINE_ENV)
    env["ANTHROPIC_BASE_URL"] = base_url
    env["HOME"] = home
    # XDG paths would otherwise still point into the real home directory.
    env["XDG_CONFIG_HOME"] = f"{home}/.config"
    env["XDG_CACHE_HOME"] = f"{home}/.cache"
    env["XDG_DATA_HOME"] = f"{home}/.local/share"
    env["XDG_STATE_HOME"] = f"{home}/.local/state"
    return env


@dataclass
class Reply:
    """One answer to ``POST /v1/messages``: content blocks, or an API error."""

    content: list[dict[str, Any]] = field(default_factory=list)
    stop_reason: str | None = None
    status: int = 200
    error_type: str = ""
    error_message: str = ""

    @property
    def is_error(self) -> bool:
        """Whether this reply is an HTTP error rather than a message."""
        return self.status != 200

    def resolved_stop_reason(self) -> str:
        """Return the stop reason, inferred from the content when not given."""
        if self.stop_reason:
            return self.stop_reason
        if any(block.get("type") == "tool_use" for block in self.content):
            return "tool_use"
        return "end_turn"


def text_reply(text: str) -> Reply:
    """Build a reply that answers with plain text and ends the turn."""
    return Reply(content=[{"type": "text", "text": text}])


def tool_use_reply(name: str, tool_input: dict[str, Any], text: str = "") -> Reply:
    """Build a reply that calls one tool, optionally after a line of text."""
    blocks: list[dict[str, Any]] = []
    if text:
        blocks.append({"type": "text", "text": text})
    # An empty id is replaced by a fresh one when the reply is sent.
    blocks.append({"type": "tool_use", "id": "", "name": name, "input": tool_input})
    return Reply(content=blocks)


def error_reply(status: int, error_type: str, message: str) -> Reply:
    """Build a reply that fails with the real API's error body."""
    return Reply(status=status, error_type=error_type, error_message=message)


AUTH_ERROR = error_reply(401, "authentication_error", "invalid x-api-key")
"""The error the real API returns for an unknown API key."""


@dataclass
class RecordedRequest:
    """One HTTP request the fake received."""

    method: str
    path: str
    query: str
    headers: dict[str, str]
    body: Any


Responder = Callable[[dict[str, Any]], Reply | None]
"""Decides the reply to a Messages request body; None defers to the default."""


class FakeAnthropicAPI:
    """A threaded HTTP server that imitates the Anthropic Messages API.

    Use it as a context manager, or call ``start`` and ``stop``::

        with FakeAnthropicAPI() as api:
            env = offline_env(api.base_url, home)
            ...
            assert api.message_requests

    Args:
        responder: Called with each Messages request body before the default
            behaviour; return a ``Reply`` to answer, or None to defer.
        required_api_key: When set, any other key is refused with the real
            401 error on every ``/v1`` endpoint.
        port: The port to bind on 127.0.0.1; 0 picks a free one.
        log: When given, one line per request is written there as it arrives.
    """

    def __init__(
        self,
        responder: Responder | None = None,
        *,
        required_api_key: str | None = None,
        port: int = 0,
        log: TextIO | None = None,
    ) -> None:
        self.responder = responder
        self.required_api_key = required_api_key
        self.requests: list[RecordedRequest] = []
        self._queue: deque[Reply] = deque()
        self._lock = threading.Lock()
        self._ids = itertools.count(1)
        self._port = port
        self._log = log
        self._server: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None

    @property
    def base_url(self) -> str:
        """The URL to use as ``ANTHROPIC_BASE_URL``."""
        if self._server is None:
            raise RuntimeError("the fake Anthropic API is not started")
        return f"http://127.0.0.1:{self._server.server_port}"

    @property
    def message_requests(self) -> list[dict[str, Any]]:
        """Bodies of every ``POST /v1/messages`` received, oldest first."""
        with self._lock:
            return [
                request.body
                for request in self.requests
                if request.method == "POST" and request.path == "/v1/messages"
            ]

    @property
    def paths(self) -> list[str]:
        """Method and path of every request received, oldest first."""
        with self._lock:
            return [f"{request.method} {request.path}" for request in self.requests]

    def enqueue(self, *replies: Reply) -> None:
        """Queue replies for the next Messages requests, before the responder."""
        with self._lock:
            self._queue.extend(replies)

    def start(self) -> FakeAnthropicAPI:
        """Bind to 127.0.0.1 and serve in a daemon thread."""
        handler = type("Handler", (_Handler,), {"api": self})
        self._server = ThreadingHTTPServer(("127.0.0.1", self._port), handler)
        self._server.daemon_threads = True
        # A short poll interval keeps stop() quick; it waits for one poll.
        self._thread = threading.Thread(
            target=self._server.serve_forever,
            kwargs={"poll_interval": 0.05},
            name="fake-anthropic-api",
            daemon=True,
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        """Stop serving and close the socket."""
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
        if self._thread is not None:
            self._thread.join(timeout=5)
        self._server = None
        self._thread = None

    def __enter__(self) -> FakeAnthropicAPI:
        return self.start()

    def __exit__(self, *exc_info: object) -> None:
        self.stop()

    def record(self, request: RecordedRequest) -> None:
        """Keep one received request for later assertions."""
        with self._lock:
            self.requests.append(request)
        if self._log is not None:
            print(f"{request.method} {request.path}", file=self._log, flush=True)

    def reply_to(self, body: dict[str, Any]) -> Reply:
        """Choose the reply to one Messages request."""
        with self._lock:
            queued = self._queue.popleft() if self._queue else None
        if queued is not None:
            return queued
        if self.responder is not None:
            chosen = self.responder(body)
            if chosen is not None:
                return chosen
        return default_reply(body)

    def next_id(self, prefix: str) -> str:
        """Return a fresh, readable identifier such as ``msg_fake_000001``."""
        return f"{prefix}_fake_{next(self._ids):06d}"


def default_reply(body: dict[str, Any]) -> Reply:
    """Answer a Messages request the way the end-to-end scenarios expect."""
    tools = {tool.get("name"): tool for tool in body.get("tools") or []}
    last = _last_turn(body)

    if last is not None and _blocks_of_type(last, "tool_result"):
        return text_reply(FINAL_TEXT)

    structured = tools.get("StructuredOutput")
    if structured is not None:
        schema = structured.get("input_schema") or {}
        return tool_use_reply("StructuredOutput", example_for_schema(schema))

    if "Bash" in tools and TOOL_MARKER in prompt_text(body):
        return tool_use_reply(
            "Bash",
            {"command": TOOL_COMMAND, "description": "Write e2e.txt"},
            text="I will create the file.",
        )
    return text_reply("Hello from the fake Anthropic API.")


def prompt_text(body: dict[str, Any]) -> str:
    """Join the text of every user turn in a Messages request."""
    parts: list[str] = []
    for message in body.get("messages") or []:
        if message.get("role") != "user":
            continue
        content = message.get("content")
        if isinstance(content, str):
            parts.append(content)
            continue
        parts.extend(
            block.get("text", "") for block in _blocks_of_type(message, "text")
        )
    return "\n".join(parts)


def system_text(body: dict[str, Any]) -> str:
    """Join the system prompt of a Messages request, wherever the CLI put it."""
    parts: list[str] = []
    system = body.get("system")
    if isinstance(system, str):
        parts.append(system)
    elif isinstance(system, list):
        parts.extend(block.get("text", "") for block in system)
    # The CLI also sends system text as messages with the "system" role.
    for message in body.get("messages") or []:
        if message.get("role") == "system":
            parts.extend(
                block.get("text", "") for block in _blocks_of_type(message, "text")
            )
    return "\n".join(parts)


def _last_turn(body: dict[str, Any]) -> dict[str, Any] | None:
    turns = [
        message
        for message in body.get("messages") or []
        if message.get("role") in ("user", "assistant")
    ]
    return turns[-1] if turns else None


def _blocks_of_type(message: dict[str, Any], block_type: str) -> list[dict[str, Any]]:
    content = message.get("content")
    if not isinstance(content, list):
        return []
    return [block for block in content if block.get("type") == block_type]


def example_for_schema(
    schema: dict[str, Any], root: dict[str, Any] | None = None
) -> Any:
    """Build a small value that satisfies a JSON Schema.

    It covers what plan schemas use: objects with properties, arrays, the
    scalar types, ``enum``/``const``/``default``/``examples``, the length and
    range bounds, ``anyOf``/``oneOf``/``allOf`` and local ``$ref``.
    """
    root = schema if root is None else root
    if "$ref" in schema:
        return example_for_schema(_resolve_ref(root, schema["$ref"]), root)
    for keyword in ("const", "default"):
        if keyword in schema:
            return schema[keyword]
    if schema.get("enum"):
        return schema["enum"][0]
    if schema.get("examples"):
        return schema["examples"][0]
    for keyword in ("anyOf", "oneOf"):
        if schema.get(keyword):
            return example_for_schema(schema[keyword][0], root)
    if schema.get("allOf"):
        merged: dict[str, Any] = {}
        for part in schema["allOf"]:
            merged.update(part)
        return example_for_schema(merged, root)

    kind = schema.get("type")
    if isinstance(kind, list):
        kind = next((name for name in kind if name != "null"), "null")
    if kind is None:
        kind = "object" if "properties" in schema else "string"

    if kind == "object":
        properties = schema.get("properties") or {}
        return {name: example_for_schema(sub, root) for name, sub in properties.items()}
    if kind == "array":
        item = example_for_schema(schema.get("items") or {"type": "string"}, root)
        return [item] * max(1, int(schema.get("minItems", 1)))
    if kind in ("integer", "number"):
        low = schema.get("minimum", schema.get("exclusiveMinimum", 0))
        value = max(1, low + (1 if "exclusiveMinimum" in schema else 0))
        if "maximum" in schema:
            value = min(value, schema["maximum"])
        return int(value) if kind == "integer" else float(value)
    if kind == "boolean":
        return True
    if kind == "null":
        return None
    text = "example"
    min_length = int(schema.get("minLength", 0))
    if len(text) < min_length:
        text = text + "x" * (min_length - len(text))
    if "maxLength" in schema:
        text = text[: int(schema["maxLength"])]
    return text


def _resolve_ref(root: dict[str, Any], ref: str) -> dict[str, Any]:
    if not ref.startswith("#/"):
        raise ValueError(f"only local $ref is supported, got {ref!r}")
    node: Any = root
    for part in ref[2:].split("/"):
        node = node[part.replace("~1", "/").replace("~0", "~")]
    resolved: dict[str, Any] = node
    return resolved


_RETRYABLE_STATUSES = frozenset({408, 409, 429, 500, 502, 503, 504, 529})


def _estimate_tokens(payload: Any) -> int:
    # About four characters a token: stable for one request, plausible in size.
    return max(1, len(json.dumps(payload)) // 4)


class _Handler(BaseHTTPRequestHandler):
    """Routes one HTTP request to the fake's endpoints."""

    api: FakeAnthropicAPI
    protocol_version = "HTTP/1.1"
    # Ends keep-alive connections a client left open, so no thread lingers.
    timeout = 30
    server_version = "fake-anthropic-api"

    def do_GET(self) -> None:
        self._dispatch()

    def do_POST(self) -> None:
        self._dispatch()

    def do_HEAD(self) -> None:
        self._dispatch()

    def do_PUT(self) -> None:
        self._dispatch()

    def do_DELETE(self) -> None:
        self._dispatch()

    def version_string(self) -> str:
        return self.server_version

    def log_message(self, format: str, *args: Any) -> None:
        # Keep test output clean; requests are recorded on the server instead.
        pass

    def _dispatch(self) -> None:
        split = urlsplit(self.path)
        path = split.path.rstrip("/") or "/"
        body = self._read_body()
        self.api.record(
            RecordedRequest(
                method=self.command,
                path=path,
                query=split.query,
                headers={key.lower(): value for key, value in self.headers.items()},
                body=body,
            )
        )

        if path.startswith("/v1/") and not self._authorised():
            self._send_error(AUTH_ERROR)
            return
        if self.command == "POST" and path == "/v1/messages":
            self._messages(body if isinstance(body, dict) else {})
        elif self.command == "POST" and path == "/v1/messages/count_tokens":
            self._send_json(200, {"input_tokens": _estimate_tokens(body)})
        elif self.command == "GET" and path == "/v1/models":
            self._send_json(200, _model_page())
        elif self.command == "GET" and path.startswith("/v1/models/"):
            self._send_json(200, _model(path.rsplit("/", 1)[-1]))
        elif path.startswith("/v1/"):
            self._send_error(error_reply(404, "not_found_error", f"Not found: {path}"))
        else:
            # Reachability probes such as HEAD /api/hello only need a 200.
            self._send_json(200, {})

    def _read_body(self) -> Any:
        length = int(self.headers.get("Content-Length") or 0)
        if not length:
            return None
        raw = self.rfile.read(length)
        try:
            return json.loads(raw)
        except ValueError:
            return raw.decode("utf-8", "replace")

    def _authorised(self) -> bool:
        required = self.api.required_api_key
        if required is None:
            return True
        bearer = self.headers.get("Authorization", "").removeprefix("Bearer ")
        return required in (self.headers.get("x-api-key"), bearer)

    def _messages(self, body: dict[str, Any]) -> None:
        reply = self.api.reply_to(body)
        if reply.is_error:
            self._send_error(reply)
            return
        message = self._message(body, reply)
        if body.get("stream"):
            self._stream(message)
        else:
            self._send_json(200, message)

    def _message(self, body: dict[str, Any], reply: Reply) -> dict[str, Any]:
        content = []
        for block in reply.content:
            block = dict(block)
            if block.get("type") == "tool_use" and not block.get("id"):
                block["id"] = self.api.next_id("toolu")
            content.append(block)
        return {
            "id": self.api.next_id("msg"),
            "type": "message",
            "role": "assistant",
            "model": body.get("model") or "claude-fake",
            "content": content,
            "stop_reason": reply.resolved_stop_reason(),
            "stop_sequence": None,
            "usage": {
                "input_tokens": _estimate_tokens(body.get("messages")),
                "cache_creation_input_tokens": 0,
                "cache_read_input_tokens": 0,
                "output_tokens": _estimate_tokens(content),
                "service_tier": "standard",
            },
        }

    def _stream(self, message: dict[str, Any]) -> None:
        self.send_response(200)
        self._common_headers()
        self.send_header("Content-Type", "text/event-stream; charset=utf-8")
        self.send_header("Cache-Control", "no-cache")
        self.send_header("Transfer-Encoding", "chunked")
        self.end_headers()
        for event in _stream_events(message):
            data = json.dumps(event, separators=(",", ":"))
            frame = f"event: {event['type']}\ndata: {data}\n\n".encode()
            self.wfile.write(b"%x\r\n%s\r\n" % (len(frame), frame))
            self.wfile.flush()
        self.wfile.write(b"0\r\n\r\n")
        self.wfile.flush()

    def _send_error(self, reply: Reply) -> None:
        # The real API tells clients whether a retry can help. Without the
        # header this CLI retries even a 401 ten times with backoff, which
        # takes minutes.
        retry = reply.status in _RETRYABLE_STATUSES
        self._send_json(
            reply.status,
            {
                "type": "error",
                "error": {"type": reply.error_type, "message": reply.error_message},
                "request_id": self.api.next_id("req"),
            },
            headers={"x-should-retry": "true" if retry else "false"},
        )

    def _send_json(
        self, status: int, payload: Any, headers: dict[str, str] | None = None
    ) -> None:
        data = json.dumps(payload).encode()
        self.send_response(status)
        self._common_headers()
        for name, value in (headers or {}).items():
            self.send_header(name, value)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(data)

    def _common_headers(self) -> None:
        self.send_header("request-id", self.api.next_id("req"))
        self.send_header("anthropic-organization-id", "fake-organization")


def _stream_events(message: dict[str, Any]) -> Iterator[dict[str, Any]]:
    """Yield the server-sent events the real API sends for one message."""
    usage = message["usage"]
    start = dict(message, content=[], stop_reason=None)
    start["usage"] = dict(usage, output_tokens=1)
    yield {"type": "message_start", "message": start}

    for index, block in enumerate(message["content"]):
        if block["type"] == "tool_use":
            opened = dict(block, input={})
            deltas = _chunks(json.dumps(block["input"]), "input_json_delta")
        else:
            opened = {"type": "text", "text": ""}
            deltas = _chunks(block.get("text", ""), "text_delta")
        yield {"type": "content_block_start", "index": index, "content_block": opened}
        if index == 0:
            yield {"type": "ping"}
        for delta in deltas:
            yield {"type": "content_block_delta", "index": index, "delta": delta}
        yield {"type": "content_block_stop", "index": index}

    yield {
        "type": "message_delta",
        "delta": {"stop_reason": message["stop_reason"], "stop_sequence": None},
        "usage": {
            "input_tokens": usage["input_tokens"],
            "cache_creation_input_tokens": 0,
            "cache_read_input_tokens": 0,
            "output_tokens": usage["output_tokens"],
        },
    }
    yield {"type": "message_stop"}


def _chunks(text: str, delta_type: str, size: int = 24) -> Iterator[dict[str, Any]]:
    # The real API splits text and tool input into many small deltas; clients
    # must join them, so the fake splits too.
    key = "partial_json" if delta_type == "input_json_delta" else "text"
    if delta_type == "input_json_delta":
        yield {"type": delta_type, key: ""}
    for offset in range(0, len(text), size):
        yield {"type": delta_type, key: text[offset : offset + size]}


def _model(model_id: str) -> dict[str, Any]:
    return {
        "type": "model",
        "id": model_id,
        "display_name": model_id,
        "created_at": "2025-01-01T00:00:00Z",
    }


def _model_page() -> dict[str, Any]:
    ids = ["claude-opus-4-1", "claude-sonnet-4-5", "claude-haiku-4-5"]
    return {
        "data": [_model(model_id) for model_id in ids],
        "has_more": False,
        "first_id": ids[0],
        "last_id": ids[-1],
    }


def main(argv: list[str] | None = None) -> int:
    """Serve the fake until interrupted, logging each request to stderr."""
    parser = argparse.ArgumentParser(
        description="Fake Anthropic Messages API on 127.0.0.1."
    )
    parser.add_argument("--port", type=int, default=0, help="0 picks a free port")
    parser.add_argument(
        "--reject-auth",
        action="store_true",
        help="refuse every API key with the real 401 error",
    )
    args = parser.parse_args(argv)

    api = FakeAnthropicAPI(
        required_api_key="a key nobody has" if args.reject_auth else None,
        port=args.port,
        log=sys.stderr,
    )
    with api:
        print(api.base_url, flush=True)
        with contextlib.suppress(KeyboardInterrupt):
            threading.Event().wait()
    return 0


if __name__ == "__main__":
    sys.exit(main())
