"""What an evaluation runs against: the pipeline in this process, or a server over HTTP."""

from __future__ import annotations

from typing import Protocol

import httpx

from evals.questions import Question
from index.store import IndexData
from service.qa.pipeline import QAPipeline
from service.schemas import AskResponse, Passage


class Target(Protocol):
    name: str

    def ask(self, question: Question, top_k: int) -> AskResponse: ...

    def search(self, query: str, top_k: int) -> list[Passage]: ...

    def all_passages(self) -> list[str] | None:
        """Every passage of the corpus when known (for nDCG's ideal), else None."""
        ...


class LocalTarget:
    def __init__(self, pipeline: QAPipeline, index: IndexData, name: str = "citeqa") -> None:
        self.pipeline, self.index, self.name = pipeline, index, name

    def ask(self, question: Question, top_k: int) -> AskResponse:
        history = [(t.role, t.content) for t in question.history]
        return self.pipeline.ask(self.index, question.question, history, top_k)

    def search(self, query: str, top_k: int) -> list[Passage]:
        return self.pipeline.search(self.index, query, top_k).results

    def all_passages(self) -> list[str] | None:
        return [c.chunk.text for c in self.index.chunks]


class HttpTarget:
    """Measures what users get: the running server's /v1/ask and /v1/search."""

    def __init__(self, url: str, timeout: float = 120) -> None:
        self.name = url
        self.client = httpx.Client(base_url=url.rstrip("/"), timeout=timeout)

    def ask(self, question: Question, top_k: int) -> AskResponse:
        body = {"question": question.question, "top_k": top_k,
                "history": [t.model_dump() for t in question.history]}
        response = self.client.post("/v1/ask", json=body)
        response.raise_for_status()
        return AskResponse.model_validate(response.json())

    def search(self, query: str, top_k: int) -> list[Passage]:
        response = self.client.post("/v1/search", json={"query": query, "top_k": top_k})
        response.raise_for_status()
        return [Passage.model_validate(p) for p in response.json()["results"]]

    def all_passages(self) -> list[str] | None:
        return None
