import threading
import time

import numpy as np
import pytest

from index.embedder import _MicroBatcher


def run_concurrently(batcher, requests):
    out, errors = {}, {}

    def call(i, texts):
        try:
            out[i] = batcher.run(texts)
        except Exception as exc:  # noqa: BLE001 - collected for the assertions
            errors[i] = exc

    threads = [threading.Thread(target=call, args=(i, t)) for i, t in enumerate(requests)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=30)
    return out, errors


def until(condition, timeout: float = 10) -> None:
    """Polls until ``condition()`` holds (or gives up after ``timeout``): threads are waited for
    by what they have done, not by a fixed sleep a loaded machine can outrun."""
    deadline = time.monotonic() + timeout
    while not condition() and time.monotonic() < deadline:
        time.sleep(0.005)


def run_behind_a_pass(batcher, requests, running, release):
    """``requests`` from concurrent callers while a forward pass holds the model: encode must
    set ``running`` and wait on ``release`` for the text "blocker". Every request queues for
    the passes after it, however the threads are scheduled."""
    blocker = threading.Thread(target=batcher.run, args=(["blocker"],))
    blocker.start()
    assert running.wait(10)
    result: dict = {}
    caller = threading.Thread(target=lambda: result.update(zip(("out", "errors"), run_concurrently(batcher, requests))))
    caller.start()
    until(lambda: len(batcher._queue) >= len(requests))
    release.set()
    caller.join(timeout=30)
    blocker.join(timeout=30)
    return result["out"], result["errors"]


def test_concurrent_callers_share_forward_passes_and_get_their_own_rows():
    batches = []
    running, release = threading.Event(), threading.Event()

    def encode(texts):
        batches.append(len(texts))
        if texts == ["blocker"]:  # a forward pass in progress: callers arriving meanwhile queue up
            running.set()
            release.wait(10)
        return np.array([[len(t), ord(t[0])] for t in texts], dtype=np.float32)

    batcher = _MicroBatcher(encode, max_texts=8)
    requests = [[f"{chr(65 + i)}" * (i + 1)] for i in range(20)] + [["xy", "zzz"]]
    out, errors = run_behind_a_pass(batcher, requests, running, release)
    assert not errors
    for i, texts in enumerate(requests):
        np.testing.assert_array_equal(out[i], [[len(t), ord(t[0])] for t in texts])
    batches = batches[1:]  # the blocker's own pass
    assert sum(batches) == 22
    assert len(batches) == 3  # 22 queued texts in passes of at most 8
    assert max(batches) <= 8


def test_a_failing_pass_raises_in_every_caller_of_that_batch_and_the_next_ones_still_run():
    calls = []

    def encode(texts):
        calls.append(list(texts))
        time.sleep(0.02)
        if any(t == "bad" for t in texts):
            raise ValueError("model failed")
        return np.zeros((len(texts), 2), np.float32)

    batcher = _MicroBatcher(encode)
    with pytest.raises(ValueError, match="model failed"):
        batcher.run(["bad"])
    assert batcher.run(["good"]).shape == (1, 2)


def test_one_poisoned_text_fails_only_its_own_caller():
    passes = []
    running, release = threading.Event(), threading.Event()

    def encode(texts):
        passes.append(list(texts))
        if texts == ["blocker"]:
            running.set()
            release.wait(10)
        if "poison" in texts:
            raise ValueError("cannot encode")
        return np.array([[len(t), 0] for t in texts], dtype=np.float32)

    batcher = _MicroBatcher(encode, max_texts=32)
    requests = [[f"q{i}" * (i + 1)] for i in range(12)] + [["poison"]]
    out, errors = run_behind_a_pass(batcher, requests, running, release)
    assert list(errors) == [12] and isinstance(errors[12], ValueError)
    for i in range(12):
        np.testing.assert_array_equal(out[i], [[len(requests[i][0]), 0]])
    assert any(len(p) == len(requests) and "poison" in p for p in passes), "the poisoned text shared one batch"


def test_model_gate_alternates_queries_and_document_batches():
    from index.embedder import _ModelGate

    gate = _ModelGate()
    order: list[str] = []
    release = threading.Event()

    def hold(kind: str, query: bool, wait: threading.Event | None = None) -> None:
        with gate.hold(query):
            order.append(kind)
            if wait is not None:
                wait.wait(5)

    first = threading.Thread(target=hold, args=("doc0", False, release))
    first.start()
    until(lambda: order == ["doc0"])  # doc0 holds the model; a query and two more document batches queue
    waiting = [threading.Thread(target=hold, args=(k, q)) for k, q in (("doc1", False), ("doc2", False), ("query", True))]
    for t in waiting:
        t.start()
    until(lambda: gate._waiting == {True: 1, False: 2})
    release.set()
    for t in [first, *waiting]:
        t.join(5)
    # The query does not wait behind every queued document batch.
    assert order.index("query") == 1, order


@pytest.mark.slow
def test_a_lone_surrogate_in_one_request_leaves_the_other_requests_of_its_batch_alone(embedder):
    embedder.model  # noqa: B018 - loaded, so the query prompt is known
    questions = [f"第{i}家云厂商的大模型战略是什么？" for i in range(12)]
    out, errors = run_concurrently(embedder._batcher, [[q] for q in questions] + [["\ud800 x"]])
    assert list(errors) == [12]
    assert all(out[i].shape == (1, embedder.dims) for i in range(12))


@pytest.mark.slow
def test_batched_query_vectors_equal_one_at_a_time(embedder):
    embedder.model  # noqa: B018 - loaded, so the query prompt is known
    questions = [f"第{i}家云厂商的大模型战略是什么？" for i in range(12)]
    alone = np.stack([embedder._encode([q], embedder.query_prompt)[0] for q in questions])
    out, errors = run_concurrently(embedder._batcher, [[q] for q in questions])
    assert not errors
    np.testing.assert_allclose(np.stack([out[i][0] for i in range(12)]), alone, atol=1e-5)
