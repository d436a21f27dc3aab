"""The LLM client: llama-index's OpenAI-compatible LLM, for the bundled server or any other."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # imported by openai_compatible: an extractive-only server never pays for llama-index
    from llama_index.core.llms import LLM


@dataclass(frozen=True)
class LLMEndpoint:
    base_url: str  # ".../v1" of any OpenAI-compatible server: llama.cpp, vLLM, Ollama, a hosted API
    model: str
    api_key: str = "none"  # local servers need none, but the client requires a value
    timeout_seconds: float = 30.0  # per request; also bounds a silence mid-stream
    context_window: int = 4096


def openai_compatible(endpoint: LLMEndpoint) -> LLM:
    from llama_index.llms.openai_like import OpenAILike

    # max_tokens stays unset here: the writer sends its own budget with each request
    # (a value set on the client would override it). No retries: a failed answer falls back
    # to the extractive one at once instead of making the asker wait for a second try.
    return OpenAILike(model=endpoint.model, api_base=endpoint.base_url.rstrip("/"), api_key=endpoint.api_key,
                      is_chat_model=True, timeout=endpoint.timeout_seconds, max_retries=0,
                      context_window=endpoint.context_window, max_tokens=None, temperature=0.0)
