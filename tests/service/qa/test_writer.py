import pytest

from service.llm.client import LLMEndpoint, openai_compatible
from service.qa.writer import NumberedSource, Writer, WriterError, WriterParams
from tests.conftest import free_port


def test_an_llm_that_is_down_is_a_reason_not_a_crash():
    writer = Writer(openai_compatible(LLMEndpoint(base_url=f"http://127.0.0.1:{free_port()}/v1", model="local",
                                                  timeout_seconds=5)), WriterParams())
    with pytest.raises(WriterError) as caught:
        list(writer.stream("How much?", [NumberedSource(1, "t", "Google invested US$2 billion.")], "en"))
    assert caught.value.reason == "llm_unavailable"
