"""The Lua table wrk's threads load in init(): pre-built requests and each thread's first delays."""

from __future__ import annotations

from pathlib import Path

from wrkload.requests import HEADERS, Request


def _lua_str(value: str) -> str:
    level = "=" * 4
    assert f"]{level}]" not in value
    return f"[{level}[{value}]{level}]"


def deal(delays_ms: list[int], threads: int, idle_ms: int) -> list[list[int]]:
    """Delays dealt round-robin to threads; every thread gets ceil(users / threads) connections (wrk's -c is
    split evenly), the surplus ones waiting `idle_ms` (past the segment's end): connected, never sending."""
    per_thread = -(-len(delays_ms) // threads)
    dealt = [delays_ms[i::threads] for i in range(threads)]
    return [d + [idle_ms] * (per_thread - len(d)) for d in dealt]


def write(path: Path, requests: list[Request], dealt: list[list[int]], wait_min_s: float, wait_max_s: float,
          batch_size: int, seed: int) -> None:
    lines = ["return {", f"  seed = {seed}, wait_min_ms = {wait_min_s * 1000:.3f}, "
             f"wait_max_ms = {wait_max_s * 1000:.3f}, batch_size = {batch_size},",
             "  headers = {" + ", ".join(f'["{k}"] = "{v}"' for k, v in HEADERS.items()) + "},",
             "  requests = {"]
    for r in requests:
        body = "nil" if r.body is None else _lua_str(r.body.decode())
        lines.append(f'    {{ kind = "{r.kind}", method = "{r.method}", path = "{r.path}", body = {body} }},')
    lines.append("  },")
    lines.append("  threads = {")
    step = len(requests) // max(1, len(dealt))
    for i, first in enumerate(dealt):
        lines.append(f"    {{ offset = {i * step}, first_ms = {{{', '.join(map(str, first))}}} }},")
    lines += ["  },", "}"]
    path.write_text("\n".join(lines) + "\n")
