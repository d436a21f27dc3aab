"""What the running app holds: the settings, the model and the loaded index."""

from __future__ import annotations

import logging
import threading
from dataclasses import dataclass, field

from index.embedder import Embedder
from index.store import IndexData, load_index
from service.config import Settings
from service.pipeline import QAPipeline

log = logging.getLogger(__name__)


@dataclass
class AppState:
    settings: Settings
    pipeline: QAPipeline | None = None
    index: IndexData | None = None
    error: str | None = None  # why the app is not ready, for /readyz
    _lock: threading.Lock = field(default_factory=threading.Lock)

    @property
    def ready(self) -> bool:
        return self.pipeline is not None and self.index is not None

    def load(self, embedder: Embedder | None = None) -> None:
        """Load the model and the index; failures are kept for /readyz, not raised."""
        try:
            if embedder is None:
                embedder = Embedder(self.settings.model_path, batch_size=self.settings.embed_batch_size,
                                    threads=self.settings.torch_threads)
            self.pipeline = QAPipeline(embedder, self.settings.pipeline_params())
            index = load_index(self.settings.index_dir)
            # Warm the query path so the first user does not pay for lazy initialisation.
            self.pipeline.search(index, "warm up", 1)
            self.index = index
            self.error = None
            log.info("index %s loaded: %s", index.manifest.version, index.manifest.counts)
        except Exception as exc:  # noqa: BLE001 - reported through /readyz and 503s
            self.error = str(exc)
            log.error("not ready: %s", exc)
