"""Document vectors kept on disk, so re-embedding unchanged text (a rebuild, a resumed
or repeated ingest, a test run) costs a lookup instead of a model call."""

from __future__ import annotations

import hashlib
import sqlite3
import threading
from pathlib import Path

import numpy as np


class EmbeddingCache:
    def __init__(self, path: Path, namespace: str) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        self.namespace = namespace  # model identity and settings; vectors of another model never match
        self._lock = threading.Lock()
        self._db = sqlite3.connect(str(path), check_same_thread=False, timeout=30)
        with self._lock, self._db:
            self._db.execute("PRAGMA journal_mode=WAL")
            self._db.execute("CREATE TABLE IF NOT EXISTS vectors (key TEXT PRIMARY KEY, vector BLOB NOT NULL)")

    def _key(self, prompt: str, text: str) -> str:
        return hashlib.sha256(f"{self.namespace}\x00{prompt}\x00{text}".encode()).hexdigest()

    def get_many(self, prompt: str, texts: list[str], dims: int) -> list[np.ndarray | None]:
        keys = [self._key(prompt, t) for t in texts]
        found: dict[str, bytes] = {}
        with self._lock:
            for start in range(0, len(keys), 500):
                batch = keys[start : start + 500]
                rows = self._db.execute(f"SELECT key, vector FROM vectors WHERE key IN ({','.join('?' * len(batch))})", batch)
                found.update(rows.fetchall())
        out: list[np.ndarray | None] = []
        for key in keys:
            blob = found.get(key)
            vector = np.frombuffer(blob, dtype=np.float32) if blob is not None else None
            out.append(vector if vector is not None and vector.shape == (dims,) else None)
        return out

    def put_many(self, prompt: str, texts: list[str], vectors: np.ndarray) -> None:
        rows = [(self._key(prompt, t), np.ascontiguousarray(v, dtype=np.float32).tobytes()) for t, v in zip(texts, vectors)]
        with self._lock, self._db:
            self._db.executemany("INSERT OR REPLACE INTO vectors (key, vector) VALUES (?, ?)", rows)
