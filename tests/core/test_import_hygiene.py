"""The core imports no front-door toolkit (Textual, slack-bolt)."""

from __future__ import annotations

import json
import subprocess
import sys

IMPORT_ALL = """
import importlib, json, pkgutil, sys
import nightshift.core

names = ["nightshift.core"]
for info in pkgutil.walk_packages(nightshift.core.__path__, "nightshift.core."):
    importlib.import_module(info.name)
    names.append(info.name)
print(json.dumps({"imported": names, "loaded": sorted(sys.modules)}))
"""

FORBIDDEN = ("textual", "slack_bolt", "slack_sdk")


def test_core_imports_neither_textual_nor_slack() -> None:
    proc = subprocess.run(
        [sys.executable, "-c", IMPORT_ALL],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert proc.returncode == 0, proc.stderr
    result = json.loads(proc.stdout)

    # The walk really did reach the modules, agents included.
    for name in (
        "nightshift.core.store",
        "nightshift.core.planner",
        "nightshift.core.settings",
        "nightshift.core.agents",
    ):
        assert name in result["imported"]
    leaked = [
        module for module in result["loaded"] if module.split(".")[0] in FORBIDDEN
    ]
    assert leaked == []
