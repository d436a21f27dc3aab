"""What the running app holds: the settings, the model and the loaded index."""

from __future__ import annotations

import logging
import threading
from dataclasses import dataclass, field

from index.dense import set_search_threads
from index.embedder import Embedder
from index.store import IndexData, current_version_dir, load_index
from service.config import Settings
from service.indexing import reconcile_uploads
from service.qa.pipeline import QAPipeline
from service.api.metrics import Metrics
from service.api.security import RateLimiter

log = logging.getLogger(__name__)


class IncompatibleIndexError(RuntimeError):
    pass


def check_compatible(index: IndexData, embedder: Embedder | None) -> None:
    """Query vectors must come from the model (and quantisation, dims) the index was built with."""
    if embedder is not None and index.manifest.model_id != embedder.model_id:
        raise IncompatibleIndexError(
            f"the index was built with {index.manifest.model_id!r} but the settings give {embedder.model_id!r} "
            "(CITEQA_EMBEDDING_MODEL/_QUANTIZE/_DIMS); run `citeqa ingest --rebuild` or change the settings back")


@dataclass
class AppState:
    """The one piece of mutable state: the loaded index, replaced whole, never edited.

    A request reads ``index`` once and keeps that object, so a write published while it
    runs cannot mix two versions in one answer.
    """

    settings: Settings
    pipeline: QAPipeline | None = None
    index: IndexData | None = None
    error: str | None = None  # why the app is not ready, for /readyz
    limiter: RateLimiter = field(init=False)
    metrics: Metrics = field(default_factory=Metrics)
    _stop: threading.Event = field(default_factory=threading.Event)
    _publish_lock: threading.Lock = field(default_factory=threading.Lock)

    def __post_init__(self) -> None:
        self.limiter = RateLimiter({"reads": self.settings.rate_limit_reads, "writes": self.settings.rate_limit_writes,
                                    "auth_failures": self.settings.rate_limit_auth_failures})

    def publish(self, index: IndexData) -> bool:
        """Serve ``index`` if it is the version ``CURRENT`` names; False when it is not.

        A write handler and the poller both publish; without this check a slow load of an
        older version could replace a newer one (serving a deleted document again).
        """
        check_compatible(index, self.pipeline.embedder if self.pipeline else None)
        with self._publish_lock:
            live = current_version_dir(self.settings.index_dir)
            if live is not None and live.name != index.manifest.version:
                return False  # another writer moved on; the poller loads that version
            self.index = index
            return True

    def observe(self) -> None:
        """Bring the index gauges up to date (at each scrape, and each poll for other workers' scrapes)."""
        version_dir = current_version_dir(self.settings.index_dir)
        self.metrics.observe_index(self.index, version_dir.name if version_dir else None, self.ready)

    def watch(self) -> None:
        """Pick up versions published by another process (a CLI ingest, another replica)."""
        interval = self.settings.index_poll_seconds
        while interval > 0 and not self._stop.wait(interval):
            self.observe()
            current = self.index
            if current is None:
                # Not ready (no index yet, or a broken one): serve as soon as a good version appears.
                if self.pipeline is not None and self.error is not None and current_version_dir(self.settings.index_dir) is not None:
                    try:
                        if self.publish(load_index(self.settings.index_dir)):
                            self.error = None
                            log.info("index %s loaded", self.index.manifest.version)
                    except Exception as exc:  # noqa: BLE001 - stays not ready, with the reason
                        self.error = str(exc)
                continue
            version_dir = current_version_dir(self.settings.index_dir)
            if version_dir is not None and version_dir.name != current.manifest.version:
                try:
                    if self.publish(load_index(self.settings.index_dir)):
                        log.info("switched to index %s", self.index.manifest.version)
                except Exception as exc:  # noqa: BLE001 - keep serving the version we have
                    log.error("new index version %s is unreadable, still serving %s: %s",
                              version_dir.name, current.manifest.version, exc)

    def stop(self) -> None:
        self._stop.set()

    @property
    def ready(self) -> bool:
        return self.pipeline is not None and self.index is not None

    def load(self, embedder: Embedder | None = None) -> None:
        """Load the model and the index; failures are kept for /readyz, not raised."""
        try:
            if embedder is None:
                embedder = self.settings.embedder(serving=True)
            set_search_threads(self.settings.faiss_threads)
            self.pipeline = QAPipeline(embedder, self.settings.pipeline_params(), self.settings.writer())
            index = load_index(self.settings.index_dir)
            check_compatible(index, embedder)
            # A crash between publishing a version and updating the upload store is repaired
            # here, before anything is served (the store follows the published index).
            reconcile_uploads(self.settings, index)
            # Warm both query paths so the first user does not pay for lazy initialisation
            # (the answer path loads more than search: measured 7-9 s on the first ask).
            self.pipeline.search(index, "warm up", 1)
            self.pipeline.ask(index, "warm up?")
            self.index = index
            self.error = None
            log.info("index %s loaded: %s", index.manifest.version, index.manifest.counts)
            base = self.settings.public_url
            log.info("ready: demo page %s/ · API %s/v1/ask · reference %s/docs", base, base, base)
        except Exception as exc:  # noqa: BLE001 - reported through /readyz and 503s
            self.error = str(exc)
            log.error("not ready: %s", exc)
