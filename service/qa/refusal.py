"""Whether the quotes answer: a logistic model over the evidence, learned from generated questions.

Binding and the mention checks are rules: a quote bound to another entity, year or metric
is never shown, and a question whose named things no quote mentions is refused. What is left
after them is a matter of degree: a quote can be about the right company and still say
something else. A single similarity threshold judged that alone, the same for every question
and both languages. Here similarity is weighed with the rest of the evidence, by weights
learned (``python -m evals.learn``) from questions generated from the corpus, each stated fact
with its near misses (``evals/generate.py``), cross-validated by document so that the weights
are judged on documents they were not fitted on.

The features, on scales a reader can check:

- ``cosine``: the best quote's cosine to the question (embedding scale);
- ``retrieval``: the top passage's fused retrieval score;
- ``overlap``: the share of the question's words found in the quotes and their sections (0-1);
  a near miss shares the wording but not the name, year or metric that differs;
- ``rejected``: by how much a sentence bound to something else was closer to the question than
  the best admissible one (cosine gap, 0 when none was): a question about a fact the documents
  state for someone else;
- ``foreign``: 1 when the best quote is in the other language; cross-lingual cosines run lower
  and share no words, so they need their own offset rather than a lower global threshold.
"""

from __future__ import annotations

import json
import math
from dataclasses import asdict, dataclass, fields
from pathlib import Path

@dataclass(frozen=True)
class Evidence:
    cosine: float
    retrieval: float
    overlap: float
    rejected: float
    foreign: float

    @classmethod
    def names(cls) -> list[str]:
        return [f.name for f in fields(cls)]

    def vector(self) -> list[float]:
        return [float(getattr(self, name)) for name in self.names()]


@dataclass(frozen=True)
class RefusalModel:
    weights: dict[str, float]
    bias: float
    threshold: float  # on the probability
    trained_on: str = ""

    def probability(self, evidence: Evidence) -> float:
        z = self.bias + sum(self.weights.get(name, 0.0) * value for name, value in zip(evidence.names(), evidence.vector()))
        return 1.0 / (1.0 + math.exp(-max(-50.0, min(50.0, z))))

    def answers(self, evidence: Evidence) -> bool:
        return self.probability(evidence) >= self.threshold

    @classmethod
    def load(cls, path: Path) -> "RefusalModel":
        raw = json.loads(path.read_text(encoding="utf-8"))
        unknown = set(raw["weights"]) - set(Evidence.names())
        if unknown:
            raise ValueError(f"{path}: unknown features {sorted(unknown)}")
        return cls(weights={k: float(v) for k, v in raw["weights"].items()}, bias=float(raw["bias"]),
                   threshold=float(raw["threshold"]), trained_on=str(raw.get("trained_on", "")))

    def save(self, path: Path, extra: dict | None = None) -> None:
        path.write_text(json.dumps(asdict(self) | (extra or {}), ensure_ascii=False, indent=2) + "\n", encoding="utf-8")
