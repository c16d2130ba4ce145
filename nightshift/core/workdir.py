"""What a run changed in its working directory."""

from __future__ import annotations

import logging
import os
from dataclasses import dataclass
from pathlib import Path

log = logging.getLogger(__name__)

# Walking a huge tree twice per task would dominate short runs; past this many
# files the change list is skipped (and the log says so).
MAX_FILES = 20_000
SKIPPED_DIRS = frozenset({".git", ".hg", ".svn", "node_modules", "__pycache__"})
MAX_LISTED = 1000


@dataclass(frozen=True)
class Snapshot:
    """Size and modification time of every file under a directory."""

    files: dict[str, tuple[int, int]]

    def diff(self, after: Snapshot) -> dict[str, list[str]]:
        """Files created, modified and deleted between this snapshot and after."""
        created = sorted(set(after.files) - set(self.files))
        deleted = sorted(set(self.files) - set(after.files))
        modified = sorted(
            path
            for path, stamp in after.files.items()
            if path in self.files and self.files[path] != stamp
        )
        return {
            "created": created[:MAX_LISTED],
            "modified": modified[:MAX_LISTED],
            "deleted": deleted[:MAX_LISTED],
        }


def snapshot(root: Path) -> Snapshot | None:
    """Stat every file under root; None if root is unreadable or too large."""
    files: dict[str, tuple[int, int]] = {}
    stack = [root]
    while stack:
        directory = stack.pop()
        try:
            entries = list(os.scandir(directory))
        except OSError:
            if directory == root:
                return None
            continue
        for entry in entries:
            try:
                if entry.is_dir(follow_symlinks=False):
                    if entry.name not in SKIPPED_DIRS:
                        stack.append(Path(entry.path))
                    continue
                stat = entry.stat(follow_symlinks=False)
            except OSError:
                continue
            files[os.path.relpath(entry.path, root)] = (stat.st_mtime_ns, stat.st_size)
            if len(files) > MAX_FILES:
                log.info("not tracking changes in %s: over %d files", root, MAX_FILES)
                return None
    return Snapshot(files)
