"""The generator's own knobs, read once from `WRK_*` environment variables.

What the users do (think time, weights, legacy share, batch size, ramp shape, validity thresholds) is NOT here:
it comes from loadtest.settings.Settings (`LOCUST_*`), the one source of truth for both generators.
"""

from __future__ import annotations

from pathlib import Path

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict

SCRIPT = Path(__file__).with_name("user.lua")


class WrkSettings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="WRK_", extra="ignore", env_ignore_empty=True)

    binary: str = "wrk"  # Debian's package (4.1.0, LuaJIT 2.1 with its FFI)
    script: Path = SCRIPT
    # Event-loop threads per wrk process; each is judged like one Locust process (90% of a core). 2 cores here.
    threads: int = Field(2, ge=1, le=64)
    # Locust's FastHttpUser gives up after 60 s (network_timeout); wrk counts a slower answer as a timeout and
    # keeps it out of its histogram (one uint64 per microsecond up to it: 480 MB virtual, touched pages only).
    timeout_s: int = Field(60, ge=1)
    # One CPU / run-queue sample of every wrk thread per interval into <prefix>_generator.csv (Locust: 10 s).
    sample_interval_s: float = Field(5.0, gt=0)
    # Distinct pre-built requests each thread cycles through (drawn with loadtest's sampler and weights).
    sequence_length: int = Field(4096, ge=16)
    seed: int | None = None  # None: a new draw every run
    # Wall time a segment may take beyond its duration (10,000 connects, done()'s histogram dump) before it is
    # stopped with SIGINT, then SIGKILL after kill_after_s.
    grace_s: float = Field(60.0, gt=0)
    kill_after_s: float = Field(15.0, gt=0)
