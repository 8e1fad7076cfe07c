"""The fixtures themselves: each real server answers a real request."""

import urllib.request

import pytest

pytestmark = pytest.mark.integration


def test_s3_server_stores_and_lists(s3_server):
    client = s3_server.client()
    client.put_object(Bucket=s3_server.bucket, Key="probe/hello.txt", Body=b"hi")
    assert "probe/hello.txt" in s3_server.keys("probe/")
    client.delete_object(Bucket=s3_server.bucket, Key="probe/hello.txt")


def test_s3_rejects_anonymous_reads(s3_server):
    with pytest.raises(urllib.error.HTTPError) as err:
        urllib.request.urlopen(f"{s3_server.endpoint_url}/{s3_server.bucket}/", timeout=5)
    assert err.value.code == 403


def test_mlflow_server_answers_api_calls(mlflow_server):
    from mlflow import MlflowClient

    client = MlflowClient(mlflow_server.tracking_uri)
    assert client.get_experiment_by_name("Default") is not None
