"""Keep heavy optional libraries out of a child process that does not need them.

scikit-learn imports pandas and pyarrow eagerly when they are installed (a development virtualenv, not the
serving image) and treats them as optional (`try: import ... except ImportError`), so a child that refuses to
import them behaves as in the image and measures what the image will.
"""

from __future__ import annotations

import logging
import sys
from collections.abc import Callable, Iterable
from importlib.abc import MetaPathFinder
from pathlib import Path
from typing import Any

import msgspec


class BlockedImports(MetaPathFinder):
    """A meta-path finder that answers ModuleNotFoundError for the given top-level packages."""

    def __init__(self, names: Iterable[str]) -> None:
        self.names = frozenset(names)

    def find_spec(self, fullname: str, path: object = None, target: object = None) -> None:
        if fullname.partition(".")[0] in self.names:
            raise ModuleNotFoundError(f"{fullname} is kept out of this process", name=fullname)
        return None


def block_imports(*names: str) -> None:
    """Refuse `names` (and their submodules) from now on; call before the first heavy import."""
    loaded = [name for name in names if name in sys.modules]
    if loaded:
        raise RuntimeError(f"already imported: {loaded}")
    sys.meta_path.insert(0, BlockedImports(names))


def child_main(argv: list[str], usage: str, kept_out: Iterable[str], produce: Callable[[str], Any]) -> int:
    """The child side of loader.run_child: `python -m MODULE OUT ARG` writes produce(ARG) as msgpack to OUT,
    with `kept_out` refused from the start. Exit 0 = written, 2 = bad usage, anything else = failed."""
    logging.basicConfig(level=logging.WARNING, stream=sys.stderr, format="level=%(levelname)s %(message)s")
    if len(argv) != 3:
        print(f"usage: {usage}", file=sys.stderr)
        return 2
    block_imports(*kept_out)
    Path(argv[1]).write_bytes(msgspec.msgpack.encode(produce(argv[2])))
    return 0
