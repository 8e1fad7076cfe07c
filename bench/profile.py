"""py-spy under load: a flamegraph SVG and a "top" table (own time per function) of our API's process."""

from __future__ import annotations

import shutil
import subprocess
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

from bench.variants import VENV_BIN


@dataclass(frozen=True)
class Profile:
    svg: Path
    raw: Path
    top: list[tuple[str, float, float]]  # (function, % own samples, % total samples)
    layers: list[tuple[str, float]] = ()  # (layer, % own samples): where the time goes, by package


def py_spy() -> str | None:
    found = VENV_BIN / "py-spy"
    return str(found) if found.exists() else shutil.which("py-spy")


def start(pid: int, duration: float, outdir: Path, name: str) -> tuple[list[subprocess.Popen], Path, Path] | None:
    """Start recording `pid` (and children) for `duration` s in the background; None without py-spy."""
    exe = py_spy()
    if exe is None:
        return None
    svg, raw = outdir / f"{name}-profile.svg", outdir / f"{name}-profile.txt"
    seconds = str(max(1, round(duration)))
    common = ["record", "--pid", str(pid), "--subprocesses", "--duration", seconds, "--rate", "250", "--nonblocking"]
    procs = [subprocess.Popen([exe, *common, "--format", "flamegraph", "-o", str(svg)],
                              stdout=subprocess.DEVNULL, stderr=subprocess.PIPE),
             subprocess.Popen([exe, *common, "--format", "raw", "-o", str(raw)],
                              stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)]
    return procs, svg, raw


def finish(started, timeout: float) -> Profile | str:
    procs, svg, raw = started
    errors = []
    for proc in procs:
        try:
            _, err = proc.communicate(timeout=timeout)
        except subprocess.TimeoutExpired:
            proc.kill()
            _, err = proc.communicate()
        if proc.returncode != 0:
            errors.append(err.decode(errors="replace")[-500:])
    if errors or not raw.exists():
        return "py-spy failed: " + " | ".join(errors)
    return Profile(svg, raw, top_functions(raw), own_time_by_layer(raw))


def top_functions(raw: Path, limit: int = 12) -> list[tuple[str, float, float]]:
    """Collapsed stacks ("a;b;c 42") -> per function: % own (top of stack) and % total (anywhere), like py-spy top."""
    own: Counter[str] = Counter()
    total: Counter[str] = Counter()
    samples = 0
    for line in raw.read_text().splitlines():
        stack, _, count = line.rpartition(" ")
        if not stack or not count.isdigit():
            continue
        frames = [_function(frame) for frame in stack.split(";")]
        samples += int(count)
        own[frames[-1]] += int(count)
        for name in set(frames):
            total[name] += int(count)
    samples = samples or 1
    return [(name, 100 * n / samples, 100 * total[name] / samples) for name, n in own.most_common(limit)]


# Own time by the package of the frame on top of the stack. The bare-ASGI ceiling runs the same uvicorn and event
# loop with no work per request, so what our API spends in its own layers is the gap to that ceiling.
LAYERS = (("inference/", "our API (inference/: request handling, prediction, metrics)"),
          ("prometheus_client/", "prometheus-client"), ("fastapi/", "FastAPI / Starlette"),
          ("starlette/", "FastAPI / Starlette"), ("uvicorn/", "uvicorn (HTTP parsing, ASGI send)"),
          ("httptools", "uvicorn (HTTP parsing, ASGI send)"), ("asyncio/", "asyncio event loop"))


def own_time_by_layer(raw: Path) -> list[tuple[str, float]]:
    """Collapsed stacks -> % of samples whose top frame is in each layer (LAYERS, else "other"), largest first."""
    own: Counter[str] = Counter()
    for line in raw.read_text().splitlines():
        stack, _, count = line.rpartition(" ")
        if not stack or not count.isdigit():
            continue
        top = stack.split(";")[-1]
        own[next((name for key, name in LAYERS if key in top), "other (stdlib, json, ...)")] += int(count)
    samples = sum(own.values()) or 1
    return [(name, 100 * n / samples) for name, n in own.most_common()]


def _function(frame: str) -> str:
    """"send (uvicorn/protocols/http/httptools_impl.py:524)" -> "send (uvicorn/protocols/http/httptools_impl.py)"."""
    frame = frame.strip()
    head, sep, tail = frame.rpartition(":")
    return f"{head})" if sep and tail.rstrip(")").isdigit() else frame
