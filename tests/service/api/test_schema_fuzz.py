"""Schema fuzzing of the whole OpenAPI spec with schemathesis against a real server."""

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import RunningServer

pytestmark = pytest.mark.slow


def test_no_server_errors_and_documented_error_shapes(corpus_settings, embedder, tmp_path):
    from service.api.app import create_app
    from service.config import Settings

    index_dir = tmp_path / "index"
    shutil.copytree(corpus_settings.index_dir, index_dir)
    # Writes stay refused (no admin key): fuzzing must not fill the index with random documents.
    settings = Settings(index_dir=index_dir, corpus_dir=corpus_settings.corpus_dir, rate_limit_reads=0, rate_limit_writes=0)
    st = Path(sys.executable).with_name("schemathesis")
    with RunningServer(create_app(settings, embedder=embedder)) as server:
        result = subprocess.run(
            [str(st), "run", f"{server.url}/openapi.json", "--checks",
             "not_a_server_error,response_schema_conformance,content_type_conformance",
             "--max-examples", "15", "--seed", "1234", "--no-color"],
            capture_output=True, text=True, timeout=600, cwd=tmp_path,
        )
    print(result.stdout[-3000:])
    assert result.returncode == 0, result.stdout[-5000:] + result.stderr[-2000:]
    assert " passed" in result.stdout and "failed" not in result.stdout.split("Test cases:")[-1]
