"""Which Locust workers took part in a run, on which host, and which were lost before its end (master only).

Locust's master already copes with a lost worker: a worker that quits (SIGTERM, `docker stop`) is removed at
once, one that stops sending heartbeats (host or network gone) is marked `missing` after ~3 s and removed after
60 s; the users are re-dispatched to the others only with `--enable-rebalancing`, otherwise the run goes on
with fewer users. Locust does not say so in its results, so this module does: it notes every worker that
joined and its last heartbeat, and at the end of the test (`test_stopping`, before the workers are told to stop)
whether it was still there. Written to `<csv prefix>_workers.json`, read by loadtest.summary.

A worker's Locust id is "<hostname>_<hex>": on another host, its compose file sets the container hostname to
that host's name (LOCUST_WORKER_HOSTNAME), so the id says where it ran.
"""

from __future__ import annotations

import json
import time
from dataclasses import asdict, dataclass
from pathlib import Path

from locust.runners import STATE_MISSING, MasterRunner

SUFFIX = "_workers.json"


@dataclass
class WorkerRecord:
    id: str
    host: str
    joined: float
    last_heartbeat: float
    state: str = "running"  # at the end of the test: running | missing (no heartbeat) | gone (quit or removed)

    @property
    def lost(self) -> bool:
        return self.state != "running"


def host_of(client_id: str) -> str:
    return client_id.rsplit("_", 1)[0] if "_" in client_id else client_id


class Roster:
    def __init__(self, runner: MasterRunner, path: Path, clock=time.time) -> None:
        self.runner, self.path, self.clock = runner, path, clock
        self.workers: dict[str, WorkerRecord] = {}

    def seen(self, client_id: str, **_kw) -> None:
        now = self.clock()
        record = self.workers.get(client_id)
        if record is None:
            self.workers[client_id] = WorkerRecord(client_id, host_of(client_id), now, now)
        else:
            record.last_heartbeat = now

    def start(self, **_kw) -> None:
        """A new test (the web UI may run several): only the workers connected now take part so far."""
        self.workers = {}
        for client in self.runner.clients.all:
            self.seen(client.id)

    def stopping(self, **_kw) -> None:
        for record in self.workers.values():
            client = self.runner.clients.get(record.id)
            record.state = "gone" if client is None else "missing" if client.state == STATE_MISSING else "running"
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self.path.write_text(json.dumps(self.as_dict(), indent=2) + "\n")

    def as_dict(self) -> dict:
        rows = sorted(self.workers.values(), key=lambda r: (r.host, r.joined))
        return {"workers": [{**asdict(r), "lost": r.lost} for r in rows],
                "hosts": sorted({r.host for r in rows}), "lost": sum(r.lost for r in rows)}


def on_init(environment, runner=None, **_kw) -> None:
    """`events.init` listener: a master with `--csv` keeps the roster of its workers."""
    prefix = getattr(environment.parsed_options, "csv_prefix", None)
    if not prefix or not isinstance(runner, MasterRunner):
        return
    roster = Roster(runner, Path(prefix + SUFFIX))
    environment.events.worker_connect.add_listener(roster.seen)
    environment.events.heartbeat_sent.add_listener(roster.seen)
    environment.events.test_start.add_listener(roster.start)
    environment.events.test_stopping.add_listener(roster.stopping)

