"""The MLflow model registry through its REST API: resolve an alias, read the run's metrics, download a version.

Why not the MLflow client here: `import mlflow` alone costs ~2 s and ~95 MB per load, two fifths of the time to
ready, for five GET requests. These are MLflow's documented REST 2.0 endpoints, and artifacts come through the
tracking server's artifact proxy (`mlflow server --serve-artifacts`, the default) exactly as the client's
MlflowArtifactsRepository fetches them. Only what loading needs is downloaded: MLmodel, the model file and the
flavor's code folder. Credentials and TLS as the MLflow client reads them: MLFLOW_TRACKING_TOKEN or
MLFLOW_TRACKING_USERNAME/PASSWORD, MLFLOW_TRACKING_SERVER_CERT_PATH or MLFLOW_TRACKING_INSECURE_TLS.
"""

from __future__ import annotations

import base64
import json
import ssl
import time
import urllib.error
import urllib.parse
import urllib.request
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import Any

from .artifact import LocalModel, describe
from .settings import Settings

ARTIFACTS_API = "/api/2.0/mlflow-artifacts/artifacts"
CHUNK_BYTES = 1 << 20


class RegistryError(RuntimeError):
    """The registry answered with an error, or the version cannot be fetched through it."""


@dataclass(frozen=True)
class ModelVersion:
    name: str
    version: str
    run_id: str | None


def safe_relative(path: str) -> PurePosixPath:
    """An artifact path that stays inside the model folder (MLmodel and listings come from whoever logged it)."""
    relative = PurePosixPath(path)
    if not path or relative.is_absolute() or ".." in relative.parts:
        raise RegistryError(f"artifact path {path!r} leaves the model folder")
    return relative


def tls_context(settings: Settings) -> ssl.SSLContext | None:
    if settings.mlflow_tracking_insecure_tls:  # the operator asked for it, as with MLflow's own flag
        context = ssl.create_default_context()
        context.check_hostname, context.verify_mode = False, ssl.CERT_NONE
        return context
    if settings.mlflow_tracking_server_cert_path:
        return ssl.create_default_context(cafile=settings.mlflow_tracking_server_cert_path)
    return None


class RegistryClient:
    """`deadline` (time.monotonic()) bounds everything this client does, however slowly the server answers."""

    def __init__(self, settings: Settings, deadline: float | None = None) -> None:
        self.base = settings.mlflow_tracking_uri.rstrip("/")
        self.timeout, self.deadline = settings.mlflow_http_timeout_s, deadline
        self.tls = tls_context(settings)
        self.headers = {"User-Agent": "penguins-inference"}
        if settings.mlflow_tracking_token:
            self.headers["Authorization"] = f"Bearer {settings.mlflow_tracking_token.get_secret_value()}"
        elif settings.mlflow_tracking_username and settings.mlflow_tracking_password:
            pair = f"{settings.mlflow_tracking_username}:{settings.mlflow_tracking_password.get_secret_value()}"
            self.headers["Authorization"] = f"Basic {base64.b64encode(pair.encode()).decode()}"

    def _timeout(self, path: str) -> float:
        if self.deadline is None:
            return self.timeout
        remaining = self.deadline - time.monotonic()
        if remaining <= 0:
            raise RegistryError(f"GET {path}: out of time (MODEL_LOAD_TIMEOUT_S) while talking to the registry")
        return min(self.timeout, remaining)

    def _open(self, url: str):
        path = urllib.parse.urlsplit(url).path
        try:
            return urllib.request.urlopen(urllib.request.Request(url, headers=self.headers),
                                          timeout=self._timeout(path), context=self.tls)
        except urllib.error.HTTPError as exc:
            body = exc.read(2000).decode(errors="replace")
            try:
                detail = json.loads(body)
                body = f"{detail.get('error_code', '')}: {detail.get('message', body)}"
            except ValueError:
                pass
            raise RegistryError(f"GET {path} -> HTTP {exc.code} {body.strip()}"[:500]) from None
        except urllib.error.URLError as exc:
            raise RegistryError(f"GET {self.base}{path}: {exc.reason}"[:500]) from None

    def get_json(self, endpoint: str, **params: str) -> dict[str, Any]:
        with self._open(f"{self.base}{endpoint}?{urllib.parse.urlencode(params)}") as response:
            return json.load(response)

    def alias_version(self, name: str, alias: str) -> ModelVersion:
        doc = self.get_json("/api/2.0/mlflow/registered-models/alias", name=name, alias=alias)["model_version"]
        return ModelVersion(name=name, version=str(doc["version"]), run_id=doc.get("run_id") or None)

    def run_metrics(self, run_id: str | None) -> dict[str, float]:
        if not run_id:
            return {}
        metrics = self.get_json("/api/2.0/mlflow/runs/get", run_id=run_id)["run"]["data"].get("metrics", [])
        return {m["key"]: float(m["value"]) for m in metrics}

    def artifact_root(self, version: ModelVersion) -> str:
        """The version's files as a path under the artifact proxy (the `mlflow-artifacts:` URI's path)."""
        uri = self.get_json("/api/2.0/mlflow/model-versions/get-download-uri", name=version.name,
                            version=version.version)["artifact_uri"]
        parsed = urllib.parse.urlsplit(uri)
        if parsed.scheme != "mlflow-artifacts":
            raise RegistryError(f"version {version.version} is stored at {uri}, which the tracking server does not "
                                "proxy: run `mlflow server` with --serve-artifacts (its default)")
        base = self.base if not parsed.netloc else f"{urllib.parse.urlsplit(self.base).scheme}://{parsed.netloc}"
        return f"{base}{ARTIFACTS_API}/{parsed.path.strip('/')}"

    def download(self, url: str, dest: Path) -> None:
        dest.parent.mkdir(parents=True, exist_ok=True)
        path = urllib.parse.urlsplit(url).path
        with self._open(url) as response, dest.open("wb") as out:
            while chunk := response.read1(CHUNK_BYTES):
                out.write(chunk)
                self._timeout(path)  # a server trickling bytes cannot hold the load past the deadline

    def download_tree(self, root: str, relative: PurePosixPath, dest: Path) -> None:
        """A file, or a folder listed through the proxy (recursively), from `root` into `dest`."""
        path = urllib.parse.urlsplit(root).path.removeprefix(ARTIFACTS_API).strip("/")
        listing = self.get_json(ARTIFACTS_API, path=f"{path}/{relative}").get("files", [])
        if not listing:
            self.download(f"{root}/{urllib.parse.quote(str(relative))}", dest / relative)
            return
        for entry in listing:
            child = relative / safe_relative(PurePosixPath(entry["path"]).name)
            if entry.get("is_dir"):
                self.download_tree(root, child, dest)
            else:
                self.download(f"{root}/{urllib.parse.quote(str(child))}", dest / child)

    def download_model(self, version: ModelVersion, dest: Path) -> LocalModel:
        """MLmodel, then the sklearn flavor's model file and code folder; what foldcheck needs to load it."""
        import yaml

        root = self.artifact_root(version)
        self.download(f"{root}/MLmodel", dest / "MLmodel")
        flavors = yaml.safe_load((dest / "MLmodel").read_text()).get("flavors") or {}
        if "sklearn" not in flavors:
            raise RegistryError(f"version {version.version} has no sklearn flavor (flavors: {sorted(flavors)})")
        flavor = flavors["sklearn"]
        self.download(f"{root}/{urllib.parse.quote(str(safe_relative(flavor['pickled_model'])))}",
                      dest / safe_relative(flavor["pickled_model"]))
        if flavor.get("code"):
            self.download_tree(root, safe_relative(flavor["code"]), dest)
        return describe(dest, flavor)
