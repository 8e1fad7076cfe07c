"""The REST registry client against a real `mlflow server` (PostgreSQL + proxied S3), checked against MlflowClient."""

from __future__ import annotations

import base64
import datetime
import http.server
import ipaddress
import json
import socket
import ssl
import threading
import time
from pathlib import Path, PurePosixPath

import numpy as np
import pytest
from mlflow import MlflowClient

from inference.artifact import load_estimator
from inference.registry import ModelVersion, RegistryClient, RegistryError, safe_relative
from inference.settings import Settings

pytestmark = pytest.mark.integration


def client_for(uri: str, **settings) -> RegistryClient:
    return RegistryClient(Settings(mlflow_tracking_uri=uri, **settings))


def test_alias_metrics_and_files_match_the_mlflow_client(trained_model, dataset, tmp_path):
    registry, reference = client_for(trained_model.tracking_uri), MlflowClient(trained_model.tracking_uri)
    version = registry.alias_version(trained_model.name, trained_model.alias)
    expected = reference.get_model_version_by_alias(trained_model.name, trained_model.alias)
    assert version == ModelVersion(trained_model.name, str(expected.version), expected.run_id)
    assert registry.run_metrics(version.run_id) == reference.get_run(expected.run_id).data.metrics
    model = registry.download_model(version, tmp_path / "model")
    assert sorted(p.name for p in (tmp_path / "model").iterdir()) == ["MLmodel", "model.skops"]
    assert model.serialization_format == "skops" and Path(model.model_file).parent == tmp_path / "model"
    import mlflow.sklearn

    mlflow.set_tracking_uri(trained_model.tracking_uri)
    ours = load_estimator(model).predict_proba(dataset[0])
    theirs = mlflow.sklearn.load_model(f"models:/{trained_model.name}/{version.version}").predict_proba(dataset[0])
    assert np.array_equal(ours, theirs)


def test_code_folder_is_downloaded_with_its_subfolders(mlflow_server, pipeline, tmp_path):
    import mlflow.sklearn

    code = tmp_path / "src" / "helpers"
    (code / "deep").mkdir(parents=True)
    (code / "features_extra.py").write_text("SCALE = 2\n")
    (code / "deep" / "more.py").write_text("X = 1\n")
    mlflow.set_tracking_uri(mlflow_server.tracking_uri)
    with mlflow.start_run():
        info = mlflow.sklearn.log_model(pipeline, name="model", code_paths=[str(code)],
                                        registered_model_name="penguins-with-code")
    MlflowClient(mlflow_server.tracking_uri).set_registered_model_alias(
        "penguins-with-code", "production", info.registered_model_version)
    registry = client_for(mlflow_server.tracking_uri)
    model = registry.download_model(registry.alias_version("penguins-with-code", "production"), tmp_path / "dl")
    assert model.code_dir == str(tmp_path / "dl" / "code")
    assert (tmp_path / "dl" / "code" / "helpers" / "features_extra.py").read_text() == "SCALE = 2\n"
    assert (tmp_path / "dl" / "code" / "helpers" / "deep" / "more.py").read_text() == "X = 1\n"


def test_unknown_alias_or_model_is_a_clear_registry_error(trained_model):
    registry = client_for(trained_model.tracking_uri)
    with pytest.raises(RegistryError, match="HTTP 400 INVALID_PARAMETER_VALUE: .*alias no-such-alias not found"):
        registry.alias_version(trained_model.name, "no-such-alias")
    with pytest.raises(RegistryError, match="HTTP [45]\\d\\d .*no-such-model"):
        registry.alias_version("no-such-model", trained_model.alias)


def test_a_version_stored_outside_the_artifact_proxy_is_refused_with_the_fix(mlflow_server, tmp_path):
    reference = MlflowClient(mlflow_server.tracking_uri)
    reference.create_registered_model("penguins-elsewhere")
    version = reference.create_model_version("penguins-elsewhere", source="s3://another-bucket/model")
    registry = client_for(mlflow_server.tracking_uri)
    with pytest.raises(RegistryError, match="--serve-artifacts"):
        registry.download_model(ModelVersion("penguins-elsewhere", str(version.version), None), tmp_path)
    assert not any(tmp_path.iterdir())


@pytest.mark.parametrize("path", ["", "../MLmodel", "/etc/passwd", "code/../../x"])
def test_artifact_paths_cannot_leave_the_model_folder(path):
    with pytest.raises(RegistryError, match="leaves the model folder"):
        safe_relative(path)
    assert safe_relative("code/helpers/x.py") == PurePosixPath("code/helpers/x.py")


def test_a_spent_deadline_stops_before_the_next_request(trained_model):
    registry = RegistryClient(Settings(mlflow_tracking_uri=trained_model.tracking_uri), deadline=time.monotonic())
    with pytest.raises(RegistryError, match="out of time \\(MODEL_LOAD_TIMEOUT_S\\)"):
        registry.alias_version(trained_model.name, trained_model.alias)


def test_an_unreachable_server_is_a_registry_error_naming_it():
    with socket.socket() as probe:  # a loopback port nobody listens on
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    with pytest.raises(RegistryError, match=f"http://127.0.0.1:{port}/api/2.0/mlflow/registered-models/alias: "):
        client_for(f"http://127.0.0.1:{port}").alias_version("m", "a")


class Recorder(http.server.BaseHTTPRequestHandler):
    """A loopback server that records the Authorization header and answers one alias lookup; /slow trickles."""

    seen: list[str | None] = []

    def do_GET(self) -> None:  # noqa: N802 - http.server's name
        if self.path.startswith("/slow"):
            return self.trickle()
        Recorder.seen.append(self.headers.get("Authorization"))
        body = json.dumps({"model_version": {"version": "7", "run_id": ""}}).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def trickle(self) -> None:
        """A byte every 50 ms of a 400-byte body: each read is quick, the whole takes 20 s."""
        self.send_response(200)
        self.send_header("Content-Length", "400")
        self.end_headers()
        try:
            for _ in range(400):
                self.wfile.write(b"x")
                self.wfile.flush()
                time.sleep(0.05)
        except OSError:  # the client gave up: what the test wants
            pass

    def log_message(self, *args) -> None:
        pass


def serve(server: http.server.ThreadingHTTPServer, scheme: str):
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    Recorder.seen = []
    yield f"{scheme}://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


@pytest.fixture
def recorder():
    yield from serve(http.server.ThreadingHTTPServer(("127.0.0.1", 0), Recorder), "http")


def self_signed(tmp_path: Path) -> tuple[Path, Path]:
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "127.0.0.1")])
    now = datetime.datetime.now(datetime.UTC)
    cert = (x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(key.public_key())
            .serial_number(x509.random_serial_number()).not_valid_before(now - datetime.timedelta(minutes=5))
            .not_valid_after(now + datetime.timedelta(hours=1))
            .add_extension(x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]), False)
            .add_extension(x509.BasicConstraints(ca=True, path_length=None), True)
            .sign(key, hashes.SHA256()))
    cert_path, key_path = tmp_path / "cert.pem", tmp_path / "key.pem"
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                           serialization.NoEncryption()))
    return cert_path, key_path


@pytest.fixture
def tls_recorder(tmp_path):
    cert, key = self_signed(tmp_path)
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Recorder)
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(cert, key)
    server.socket = context.wrap_socket(server.socket, server_side=True)
    for url in serve(server, "https"):
        yield url, cert


def test_a_slow_download_ends_at_the_deadline(recorder, tmp_path):
    registry = RegistryClient(Settings(mlflow_tracking_uri=recorder), deadline=time.monotonic() + 0.5)
    started = time.monotonic()
    with pytest.raises(RegistryError, match="/slow/model.skops: out of time"):
        registry.download(f"{recorder}/slow/model.skops", tmp_path / "model.skops")
    assert time.monotonic() - started < 5  # the body alone would take 20 s
    assert 0 < (tmp_path / "model.skops").stat().st_size < 400


def test_https_with_a_private_ca_as_the_mlflow_client_does(tls_recorder):
    url, cert = tls_recorder
    with pytest.raises(RegistryError, match="CERTIFICATE_VERIFY_FAILED"):
        client_for(url).alias_version("m", "a")
    assert client_for(url, mlflow_tracking_server_cert_path=str(cert)).alias_version("m", "a").version == "7"
    assert client_for(url, mlflow_tracking_insecure_tls=True).alias_version("m", "a").version == "7"


def test_credentials_are_sent_as_the_mlflow_client_sends_them(recorder):
    assert client_for(recorder).alias_version("m", "a") == ModelVersion("m", "7", None)
    client_for(recorder, mlflow_tracking_token="t0k").alias_version("m", "a")
    client_for(recorder, mlflow_tracking_username="ann", mlflow_tracking_password="pw").alias_version("m", "a")
    assert Recorder.seen == [None, "Bearer t0k", f"Basic {base64.b64encode(b'ann:pw').decode()}"]


def test_only_an_http_tracking_uri_is_accepted():
    with pytest.raises(ValueError, match="https"):
        Settings(mlflow_tracking_uri="file:///tmp/mlruns")
