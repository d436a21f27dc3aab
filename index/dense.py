"""Where passage vectors live: FAISS in-process (default) or a Milvus collection.

Both sit behind ``DenseIndex``, which the builder, the store and retrieval use; the
choice is made by ``DenseBackend`` (from settings) when an index is built, and the
version folder records it, so loading needs no settings.

Versioning. A FAISS index is a file inside each version folder, so a version is
immutable. A Milvus collection is shared by every version: a build inserts new ids
(never reused, see ``IndexManifest.counts["next_vid"]``) before the version is
published, and deletes the ids it dropped only after it is published (``published``).
A reader filters hits to the ids of the version it holds, so it never sees a vector
from a version that is not yet, or no longer, its own.
"""

from __future__ import annotations

import json
import math
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

import faiss
import numpy as np

FAISS_FILE = "dense.faiss"
MILVUS_FILE = "dense.milvus.json"


def set_search_threads(threads: int) -> None:
    """OpenMP threads for FAISS in this process (process-wide: FAISS has no per-call setting)."""
    faiss.omp_set_num_threads(threads)


class VectorStoreError(RuntimeError):
    """The vector store (a Milvus server) failed; the index itself is intact."""


@dataclass(frozen=True)
class DenseBackend:
    """Which vector store a build writes to.

    ``faiss_index``: ``flat`` (exact), ``ivf`` (inverted lists, approximate) or ``auto``
    (flat until ``ivf_threshold`` vectors, then IVF; see evals/bench for recall vs flat).
    """

    kind: str = "faiss"  # or "milvus"
    faiss_index: str = "auto"
    ivf_threshold: int = 200_000
    ivf_nprobe: int = 32
    milvus_uri: str = ""  # a milvus-lite file path or a server URI (http://host:19530)
    milvus_token: str = ""
    milvus_collection: str = "citeqa_passages"

    def __post_init__(self) -> None:
        if self.kind not in ("faiss", "milvus"):
            raise ValueError(f"vector backend must be 'faiss' or 'milvus', not {self.kind!r}")
        if self.faiss_index not in ("auto", "flat", "ivf"):
            raise ValueError(f"FAISS index type must be auto, flat or ivf, not {self.faiss_index!r}")


class DenseIndex(Protocol):
    backend: str

    @property
    def ntotal(self) -> int: ...

    @property
    def dims(self) -> int: ...

    def fork(self) -> "DenseIndex":
        """A copy to change for the next version; this one keeps serving unchanged."""

    def add(self, vectors: np.ndarray, ids: np.ndarray) -> None: ...

    def remove(self, ids: np.ndarray) -> None: ...

    def search(self, query: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
        """Inner products and ids of the ``k`` best, best first (ids may include ones the caller must skip)."""

    def vectors(self, ids: np.ndarray) -> np.ndarray: ...

    def save(self, folder: Path) -> list[str]:
        """Write into a version folder; returns the file names written."""

    def published(self) -> None:
        """Called once the version holding this index is live."""


def new_dense(backend: DenseBackend | None, dims: int) -> DenseIndex:
    backend = backend or DenseBackend()
    if backend.kind == "milvus":
        return MilvusDense.create(backend, dims)
    kind = "ivf" if backend.faiss_index == "ivf" else "flat"
    return FaissDense(_flat(dims) if kind == "flat" else None, dims, backend)


def load_dense(folder: Path, expected: int) -> DenseIndex:
    if (folder / MILVUS_FILE).is_file():
        return MilvusDense.load(folder / MILVUS_FILE)
    index = faiss.read_index(str(folder / FAISS_FILE))
    ivf = _as_ivf(index)
    if ivf is not None:
        ivf.set_direct_map_type(faiss.DirectMap.Hashtable)
    meta = folder / "dense.json"
    backend = DenseBackend(**json.loads(meta.read_text())) if meta.is_file() else DenseBackend()
    return FaissDense(index, index.d, backend)


def backend_files(folder: Path) -> tuple[str, ...]:
    if (folder / MILVUS_FILE).is_file():
        return (MILVUS_FILE,)
    return (FAISS_FILE, "dense.json") if (folder / "dense.json").is_file() else (FAISS_FILE,)


def _nlist(n: int) -> int:
    # ~4·sqrt(n) lists, each trained on at least 39 points as FAISS asks.
    return max(1, min(int(4 * math.sqrt(max(n, 1))), n // 39 or 1, 65536))


def _flat(dims: int) -> faiss.Index:
    return faiss.IndexIDMap2(faiss.IndexFlatIP(dims))


def _as_ivf(index: faiss.Index):
    try:
        return faiss.extract_index_ivf(index)
    except RuntimeError:
        return None


class FaissDense:
    backend = "faiss"

    def __init__(self, index: faiss.Index | None, dims: int, spec: DenseBackend) -> None:
        self._index = index  # None: an IVF index not trained yet (built on the first add)
        self._dims = dims
        self.spec = spec

    @property
    def kind(self) -> str:
        if self._index is None:
            return "ivf"
        return "flat" if _as_ivf(self._index) is None else "ivf"

    @property
    def ntotal(self) -> int:
        return 0 if self._index is None else int(self._index.ntotal)

    @property
    def dims(self) -> int:
        return self._dims

    def fork(self) -> FaissDense:
        return FaissDense(None if self._index is None else faiss.clone_index(self._index), self._dims, self.spec)

    def add(self, vectors: np.ndarray, ids: np.ndarray) -> None:
        vectors = np.ascontiguousarray(vectors, dtype=np.float32)
        ids = np.asarray(ids, dtype=np.int64)
        total = self.ntotal + len(ids)
        wants_ivf = self.spec.faiss_index == "ivf" or (self.spec.faiss_index == "auto" and total >= self.spec.ivf_threshold)
        ivf = None if self._index is None else _as_ivf(self._index)
        # Retrain when the corpus has outgrown the lists (4x the size they were trained for):
        # otherwise each list, and each query, keeps growing.
        outgrown = ivf is not None and 2 * ivf.nlist < _nlist(total)
        if wants_ivf and (self._index is None or ivf is None or outgrown):
            old_ids, old_vectors = self._all()
            self._index = self._train_ivf(np.concatenate([old_vectors, vectors]))
            if len(old_ids):
                self._index.add_with_ids(old_vectors, old_ids)
        if self._index is None:
            self._index = self._train_ivf(vectors)
        self._index.add_with_ids(vectors, ids)

    def _all(self) -> tuple[np.ndarray, np.ndarray]:
        if self._index is None or self._index.ntotal == 0:
            return np.zeros(0, np.int64), np.zeros((0, self._dims), np.float32)
        ivf = _as_ivf(self._index)
        if ivf is None:
            ids = faiss.vector_to_array(self._index.id_map).astype(np.int64)
        else:
            lists = ivf.invlists
            ids = np.concatenate([faiss.rev_swig_ptr(lists.get_ids(i), lists.list_size(i)).copy()
                                  for i in range(ivf.nlist)]).astype(np.int64)
        return ids, self.vectors(ids)

    def _train_ivf(self, vectors: np.ndarray) -> faiss.Index:
        nlist = _nlist(len(vectors))
        quantizer = faiss.IndexFlatIP(self._dims)
        ivf = faiss.IndexIVFFlat(quantizer, self._dims, nlist, faiss.METRIC_INNER_PRODUCT)
        # k-means needs ~39-256 points per list; more only costs time.
        rng = np.random.default_rng(0)
        sample = vectors if len(vectors) <= 256 * nlist else vectors[rng.choice(len(vectors), 256 * nlist, replace=False)]
        ivf.train(sample if len(sample) else np.zeros((1, self._dims), np.float32))
        ivf.nprobe = min(self.spec.ivf_nprobe, nlist)
        ivf.set_direct_map_type(faiss.DirectMap.Hashtable)
        return ivf

    def remove(self, ids: np.ndarray) -> None:
        if self._index is not None and len(ids):
            self._index.remove_ids(np.asarray(ids, dtype=np.int64))

    def search(self, query: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
        if self._index is None or self._index.ntotal == 0 or k <= 0:
            return np.zeros(0, np.float32), np.zeros(0, np.int64)
        scores, ids = self._index.search(np.ascontiguousarray(query, dtype=np.float32).reshape(1, -1), k)
        keep = ids[0] >= 0
        return scores[0][keep], ids[0][keep]

    def vectors(self, ids: np.ndarray) -> np.ndarray:
        if len(ids) == 0:
            return np.zeros((0, self._dims), np.float32)
        return np.stack([self._index.reconstruct(int(i)) for i in ids]).astype(np.float32)

    def save(self, folder: Path) -> list[str]:
        index = self._index if self._index is not None else _flat(self._dims)
        faiss.write_index(index, str(folder / FAISS_FILE))
        spec = {"faiss_index": self.spec.faiss_index, "ivf_threshold": self.spec.ivf_threshold, "ivf_nprobe": self.spec.ivf_nprobe}
        (folder / "dense.json").write_text(json.dumps(spec))
        return [FAISS_FILE, "dense.json"]

    def published(self) -> None:
        pass


class MilvusDense:
    backend = "milvus"

    def __init__(self, client, spec: DenseBackend, dims: int, count: int) -> None:
        self._client = client
        self.spec = spec
        self._dims = dims
        self._count = count
        self._pending_removal: list[int] = []

    @staticmethod
    def _connect(spec: DenseBackend):
        from pymilvus import MilvusClient

        return MilvusClient(spec.milvus_uri, token=spec.milvus_token or os.environ.get("CITEQA_MILVUS_TOKEN", ""))

    @classmethod
    def create(cls, spec: DenseBackend, dims: int) -> MilvusDense:
        if not spec.milvus_uri:
            raise ValueError("the milvus backend needs a URI (CITEQA_MILVUS_URI): a milvus-lite file or http://host:19530")
        client = _shared_client(spec)
        if client.has_collection(spec.milvus_collection):
            # A rebuild starts from an empty collection: ids restart at 0.
            client.drop_collection(spec.milvus_collection)
        client.create_collection(spec.milvus_collection, dimension=dims, metric_type="IP", primary_field_name="id",
                                 vector_field_name="vector", id_type="int", auto_id=False)
        return cls(client, spec, dims, 0)

    @classmethod
    def load(cls, path: Path) -> MilvusDense:
        meta = json.loads(path.read_text())
        spec = DenseBackend(kind="milvus", milvus_uri=os.environ.get("CITEQA_MILVUS_URI") or meta["uri"],
                            milvus_collection=meta["collection"])
        client = _shared_client(spec)
        try:
            # A collection opened by another process, or after a restart, starts released.
            client.load_collection(spec.milvus_collection)
        except Exception as exc:  # noqa: BLE001 - pymilvus raises several kinds
            raise VectorStoreError(f"cannot load Milvus collection {spec.milvus_collection!r} at {spec.milvus_uri}: {exc}") from exc
        return cls(client, spec, int(meta["dims"]), int(meta["count"]))

    @property
    def ntotal(self) -> int:
        return self._count

    @property
    def dims(self) -> int:
        return self._dims

    def fork(self) -> MilvusDense:
        return MilvusDense(self._client, self.spec, self._dims, self._count)

    def add(self, vectors: np.ndarray, ids: np.ndarray) -> None:
        name = self.spec.milvus_collection
        for start in range(0, len(ids), 1000):
            rows = [{"id": int(i), "vector": v.tolist()} for i, v in zip(ids[start : start + 1000], vectors[start : start + 1000])]
            self._client.upsert(name, rows)
        self._count += len(ids)

    def remove(self, ids: np.ndarray) -> None:
        # Deleted after publishing: readers of the previous version still need them.
        self._pending_removal.extend(int(i) for i in ids)
        self._count -= len(ids)

    def search(self, query: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
        if k <= 0 or self._count == 0:
            return np.zeros(0, np.float32), np.zeros(0, np.int64)
        # Fetch extra: the collection may hold ids of a version being built or just retired.
        hits = self._call(self._client.search, self.spec.milvus_collection, [np.asarray(query, np.float32).tolist()],
                          limit=min(2 * k + 16, 16384), output_fields=["id"], search_params={"metric_type": "IP"})[0]
        return (np.asarray([h["distance"] for h in hits], np.float32), np.asarray([h["id"] for h in hits], np.int64))

    def vectors(self, ids: np.ndarray) -> np.ndarray:
        if len(ids) == 0:
            return np.zeros((0, self._dims), np.float32)
        found = {}
        ids = [int(i) for i in ids]
        for start in range(0, len(ids), 1000):
            for row in self._call(self._client.get, self.spec.milvus_collection, ids=ids[start : start + 1000],
                                  output_fields=["vector"]):
                found[int(row["id"])] = row["vector"]
        return np.asarray([found[i] for i in ids], np.float32)

    def _call(self, method, *args, **kwargs):
        try:
            return method(*args, **kwargs)
        except Exception as exc:  # noqa: BLE001 - pymilvus raises several kinds
            raise VectorStoreError(str(exc)) from exc

    def save(self, folder: Path) -> list[str]:
        self._client.flush(self.spec.milvus_collection)
        meta = {"uri": self.spec.milvus_uri, "collection": self.spec.milvus_collection, "dims": self._dims, "count": self._count}
        (folder / MILVUS_FILE).write_text(json.dumps(meta))
        return [MILVUS_FILE]

    def published(self) -> None:
        if self._pending_removal:
            self._client.delete(self.spec.milvus_collection, ids=self._pending_removal)
            self._pending_removal = []


_CLIENTS: dict[tuple[str, str], object] = {}


def _shared_client(spec: DenseBackend):
    # milvus-lite lets one process open a database file once, so every version built or
    # loaded by this process shares one connection per URI (a cache, not state that changes answers).
    key = (spec.milvus_uri, spec.milvus_token)
    if key not in _CLIENTS:
        _CLIENTS[key] = MilvusDense._connect(spec)
    return _CLIENTS[key]
