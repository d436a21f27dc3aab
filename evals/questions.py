"""Question sets: one JSON object per line (format in the design notes)."""

from __future__ import annotations

import json
from pathlib import Path

from pydantic import BaseModel, Field


class Turn(BaseModel):
    role: str
    content: str


class Question(BaseModel):
    id: str
    lang: str
    question: str
    evidence: list[str] = Field(default_factory=list)
    answer_keywords: list[list[str]] = Field(default_factory=list)
    answerable: bool = True
    type: str = "factual"
    history: list[Turn] = Field(default_factory=list)


def load_set(path: Path) -> list[Question]:
    questions = []
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        if line.strip():
            try:
                questions.append(Question.model_validate_json(line))
            except ValueError as exc:
                raise ValueError(f"{path}:{number}: {exc}") from exc
    return questions


def dump_set(path: Path, questions: list[Question]) -> None:
    path.write_text("".join(json.dumps(q.model_dump(), ensure_ascii=False) + "\n" for q in questions), encoding="utf-8")
