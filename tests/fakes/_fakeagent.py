"""What the fake agent CLIs share: directives, side effects and the run script.

Each fake (`claude`, `codex`, `gemini` in this directory) reads its prompt the
way the real CLI does and prints the real CLI's output format. What happens in
a run is chosen by directives written anywhere in the prompt:

    [[sleep N]]        sleep N seconds (float) before finishing
    [[hang]]           never finish
    [[fail]]           end with the agent's own error result, exit 1
    [[not-logged-in]]  fail the way the CLI does without credentials
    [[garbage]]        interleave non-JSON and truncated JSON with the events
    [[exit N]]         exit N without a result event
    [[die]]            SIGKILL itself in the middle of a line
    [[ignore-term]]    ignore SIGTERM (only SIGKILL ends the process)
    [[spawn-child N]]  start a child (same process group) sleeping N seconds,
                       its pid written to child.pid in the cwd
    [[write NAME]]     create NAME in the cwd, reported as a tool call
    [[modify NAME]]    append to NAME, reported as a tool call
    [[delete NAME]]    delete NAME, reported as a tool call
    [[flood MB]]       print about MB megabytes of assistant text
    [[tokens IN OUT]]  report these input and output token totals
    [[echo-env NAME]]  say the value of an environment variable

The fake claude also plays the planner (`--output-format json`), driven by
[[plan-fail]], [[plan-hang]], [[plan-garbage]], [[plan-no-structured]] and
[[plan-slow N]].

With FAKE_AGENT_LOG set, each run appends one JSON line describing how it was
started (argv, stdin, cwd, pid) to that file.

Standard library only: the fakes run under whatever python3 is on PATH.
"""

from __future__ import annotations

import json
import os
import re
import select
import signal
import subprocess
import sys
import time
import uuid
from collections.abc import Collection, Iterator
from typing import Any

# When this fake started running Python code of its own (benchmarks measure
# dispatch latency up to here).
STARTED_AT = time.time()

DIRECTIVE = re.compile(r"\[\[([a-z][a-z-]*)((?:[ \t]+[^\s\]]+)*)[ \t]*\]\]")

DEFAULT_TOKENS = (12_000, 340)
FLOOD_CHUNK = 16 * 1024
FAIL_MESSAGE = "The fake agent failed, as the prompt asked."
FILE_CONTENT = "Written by the fake agent.\n"
APPENDED_CONTENT = "Modified by the fake agent.\n"

# Non-JSON noise and broken JSON, as agents print when a warning or a crash
# lands on stdout.
GARBAGE = [
    "Loading configuration...",
    "",
    '{"type": "assistant", "message": {"content": [{"type": "te',
    "[1, 2, 3]",
    '{"type": 42}',
    "\x1b[33mwarning:\x1b[0m something odd happened",
    '"just a string"',
    "{not json at all}",
]


class Directives:
    """The directives found in a prompt, in the order they were written."""

    def __init__(self, prompt: str) -> None:
        self.items = [(m[1], m[2].split()) for m in DIRECTIVE.finditer(prompt)]

    def has(self, name: str) -> bool:
        return any(item == name for item, _ in self.items)

    def args(self, name: str) -> list[str] | None:
        """The arguments of the first directive with this name, or None."""
        for item, args in self.items:
            if item == name:
                return args
        return None

    def number(self, name: str, default: float = 0.0) -> float | None:
        args = self.args(name)
        if args is None:
            return None
        try:
            return float(args[0])
        except (IndexError, ValueError):
            return default

    def every(self, *names: str) -> Iterator[tuple[str, list[str]]]:
        for item, args in self.items:
            if item in names:
                yield item, args

    def tokens(self) -> tuple[int, int]:
        args = self.args("tokens")
        if args is None or len(args) < 2:
            return DEFAULT_TOKENS
        try:
            return int(args[0]), int(args[1])
        except ValueError:
            return DEFAULT_TOKENS


class Output:
    """Stdout for events, with garbage interleaved when asked."""

    def __init__(self, garbage: bool) -> None:
        self.garbage = garbage
        self._next_garbage = 0

    def event(self, obj: dict[str, Any], flush: bool = True) -> None:
        self.raw(json.dumps(obj, ensure_ascii=False) + "\n", flush=False)
        if self.garbage:
            line = GARBAGE[self._next_garbage % len(GARBAGE)]
            self._next_garbage += 1
            self.raw(line + "\n", flush=False)
        if flush:
            sys.stdout.flush()

    def raw(self, text: str, flush: bool = True) -> None:
        sys.stdout.write(text)
        if flush:
            sys.stdout.flush()


class Budget:
    """Hands out a run's token totals across its messages so they add up."""

    def __init__(self, tokens: tuple[int, int]) -> None:
        self.total_in, self.total_out = tokens
        self.left_in, self.left_out = tokens

    def take(self) -> tuple[int, int]:
        share_in = min(self.left_in, max(self.total_in // 8, 1))
        share_out = min(self.left_out, max(self.total_out // 8, 1))
        self.left_in -= share_in
        self.left_out -= share_out
        return share_in, share_out

    def rest(self) -> tuple[int, int]:
        rest = self.left_in, self.left_out
        self.left_in = self.left_out = 0
        return rest


class FileOp:
    """One file directive, carried out in the cwd."""

    def __init__(self, kind: str, name: str) -> None:
        self.kind = kind
        self.name = name
        self.path = os.path.abspath(name)
        self.error = ""

    def apply(self) -> None:
        try:
            if self.kind == "write":
                os.makedirs(os.path.dirname(self.path), exist_ok=True)
                with open(self.path, "w") as f:
                    f.write(FILE_CONTENT)
            elif self.kind == "modify":
                if not os.path.isfile(self.path):
                    self.error = f"File does not exist: {self.path}"
                    return
                with open(self.path, "a") as f:
                    f.write(APPENDED_CONTENT)
            else:
                os.remove(self.path)
        except OSError as exc:
            self.error = f"{exc.strerror}: {self.path}"


class Format:
    """How one CLI prints a run; each fake overrides these."""

    def __init__(self, out: Output, model: str, tokens: tuple[int, int]) -> None:
        self.out = out
        self.model = model
        self.tokens = tokens
        self.session_id = str(uuid.uuid4())

    def start(self) -> None:
        raise NotImplementedError

    def say(self, text: str, flush: bool = True) -> None:
        raise NotImplementedError

    def command(self, command: str, output: str) -> None:
        raise NotImplementedError

    def file(self, op: FileOp) -> None:
        raise NotImplementedError

    def finish(self) -> None:
        raise NotImplementedError

    def fail(self, message: str) -> int:
        raise NotImplementedError

    def not_logged_in(self) -> int:
        raise NotImplementedError

    def partial_line(self) -> str:
        return '{"type": "assistant", "message": {"id": "msg_'


def run(fmt: Format, prompt: str, directives: Directives) -> int:
    """Play one agent run as the directives ask; the exit code is returned."""
    if directives.has("ignore-term"):
        signal.signal(signal.SIGTERM, signal.SIG_IGN)
    if directives.has("not-logged-in"):
        return fmt.not_logged_in()

    fmt.start()
    fmt.say(f"Working on: {prompt[:80].strip()}")
    for _, args in directives.every("echo-env"):
        for name in args:
            value = os.environ.get(name)
            fmt.say(f"{name}={value}" if value is not None else f"{name} is not set")

    ops = [
        FileOp(kind, args[0])
        for kind, args in directives.every("write", "modify", "delete")
        if args
    ]
    for op in ops:
        op.apply()
        fmt.file(op)
    if not ops:
        fmt.command("ls", "\n".join(sorted(os.listdir("."))))

    child_seconds = directives.number("spawn-child", 60.0)
    if child_seconds is not None:
        spawn_child(child_seconds)
    flood = directives.number("flood", 1.0)
    if flood is not None:
        flood_text(fmt, flood)

    pause = directives.number("sleep")
    if pause:
        time.sleep(pause)
    if directives.has("hang"):
        hang()
    if directives.has("die"):
        fmt.out.raw(fmt.partial_line())
        os.kill(os.getpid(), signal.SIGKILL)
    code = directives.number("exit")
    if code is not None:
        return int(code)
    if directives.has("fail"):
        return fmt.fail(FAIL_MESSAGE)
    fmt.finish()
    return 0


def spawn_child(seconds: float) -> None:
    """Start a process in our process group that outlives us if nobody kills it."""
    child = subprocess.Popen(
        [
            sys.executable,
            "-c",
            "import sys, time; time.sleep(float(sys.argv[1]))",
            str(seconds),
        ],
        stdin=subprocess.DEVNULL,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    # Written whole and renamed, so a test polling for it never reads half.
    with open("child.pid.tmp", "w") as f:
        f.write(f"{child.pid}\n")
    os.replace("child.pid.tmp", "child.pid")


def flood_text(fmt: Format, megabytes: float) -> None:
    chunk = ("All work and no play makes a fake agent chatty. " * 400)[:FLOOD_CHUNK]
    for _ in range(max(int(megabytes * 1024 * 1024) // FLOOD_CHUNK, 1)):
        fmt.say(chunk, flush=False)
    sys.stdout.flush()


def hang() -> None:
    while True:
        time.sleep(3600)


def read_stdin() -> str:
    """All of stdin, decoded as the real CLIs do."""
    return sys.stdin.buffer.read().decode("utf-8", errors="replace")


def read_piped_stdin(wait: float = 0.5, limit: int = 8 * 1024 * 1024) -> str:
    """Stdin when something is piped in, giving up on silence like gemini does."""
    if sys.stdin.isatty():
        return ""
    ready, _, _ = select.select([sys.stdin], [], [], wait)
    if not ready:
        return ""
    return sys.stdin.buffer.read(limit).decode("utf-8", errors="replace")


def log_start(agent: str, stdin: str | None) -> None:
    path = os.environ.get("FAKE_AGENT_LOG")
    if not path:
        return
    record = {
        "agent": agent,
        "argv": [agent, *sys.argv[1:]],
        "stdin": stdin,
        "cwd": os.getcwd(),
        "pid": os.getpid(),
        "task_id": os.environ.get("NIGHTSHIFT_TASK_ID"),
        "time": STARTED_AT,
    }
    data = (json.dumps(record) + "\n").encode()
    fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
    try:
        os.write(fd, data)
    finally:
        os.close(fd)


def parse_args(
    argv: list[str], value_flags: set[str], list_flags: Collection[str] = ()
) -> tuple[dict[str, list[str]], list[str]]:
    """Options (each with every value given) and positional arguments.

    A flag in `list_flags` takes values up to the next argument that starts
    with "-", as the Node CLIs' variadic options do; any unknown flag is a
    switch without a value.
    """
    options: dict[str, list[str]] = {}
    positional: list[str] = []
    i = 0
    while i < len(argv):
        arg = argv[i]
        if arg == "--":
            positional += argv[i + 1 :]
            break
        if arg.startswith("--") and "=" in arg:
            name, value = arg.split("=", 1)
            options.setdefault(name, []).append(value)
        elif arg in value_flags or arg in list_flags:
            values = options.setdefault(arg, [])
            if i + 1 < len(argv):
                i += 1
                values.append(argv[i])
            while arg in list_flags and i + 1 < len(argv):
                if argv[i + 1].startswith("-"):
                    break
                i += 1
                values.append(argv[i])
        elif arg.startswith("-") and arg != "-":
            options.setdefault(arg, []).append("")
        else:
            positional.append(arg)
        i += 1
    return options, positional


def last(options: dict[str, list[str]], *names: str) -> str | None:
    """The last value given for any of these option names."""
    found = None
    for name in names:
        if options.get(name):
            found = options[name][-1]
    return found


def timestamp() -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%S.000Z", time.gmtime())


def usage_error(agent: str, message: str) -> int:
    sys.stderr.write(f"{agent}: {message}\n")
    return 2


def exit_with(code: int) -> None:
    """Flush and exit, quietly when the reader has already gone away."""
    try:
        sys.stdout.flush()
    except BrokenPipeError:
        os._exit(code or 1)
    sys.exit(code)


def main(play: Any) -> None:
    """Run a fake's entry point, ending with its exit code."""
    try:
        code = play()
    except BrokenPipeError:
        # Nobody is reading any more; exit like a real CLI on SIGPIPE.
        os._exit(141)
    exit_with(code)
