"""Shared by the benchmarks: a scratch NightShift home and timing helpers."""

from __future__ import annotations

import compileall
import os
import statistics
import sys
import tempfile
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
FAKES = REPO / "tests" / "fakes"


def compile_package() -> None:
    """Write bytecode for the package, as a regular install does.

    An editable checkout under PYTHONDONTWRITEBYTECODE (set on some machines)
    would otherwise recompile every module on every command.
    """
    compileall.compile_dir(str(REPO / "nightshift"), quiet=1)


def nightshift_command() -> list[str]:
    """The installed console script, as users run it."""
    script = Path(sys.executable).with_name("nightshift")
    return [str(script)] if script.exists() else [sys.executable, "-m", "nightshift"]


def scratch_env(**extra: str) -> tuple[dict[str, str], Path]:
    home = Path(tempfile.mkdtemp(prefix="nightshift-bench-"))
    env = {
        **os.environ,
        "NIGHTSHIFT_HOME": str(home),
        "NIGHTSHIFT_AUTO_EXECUTOR": "0",
        # The fakes' "#!/usr/bin/env python3" should find this interpreter,
        # not a version-manager shim that costs more than the dispatch itself.
        "PATH": os.pathsep.join(
            [str(FAKES), str(Path(sys.executable).parent), os.environ["PATH"]]
        ),
        **extra,
    }
    return env, home


def percentile(values: list[float], fraction: float) -> float:
    ordered = sorted(values)
    index = min(len(ordered) - 1, max(0, round(fraction * (len(ordered) - 1))))
    return ordered[index]


def describe_ms(values: list[float]) -> str:
    ms = [v * 1000 for v in values]
    return (
        f"p50 {statistics.median(ms):.1f} ms, p95 {percentile(ms, 0.95):.1f} ms, "
        f"min {min(ms):.1f} ms, max {max(ms):.1f} ms (n={len(ms)})"
    )
