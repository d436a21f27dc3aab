"""Progress as a bar on a terminal and as plain lines elsewhere."""

import io
import re

import pytest

from index.progress import Progress, resolve


class Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_auto_is_a_bar_on_a_terminal_and_lines_elsewhere():
    assert resolve("auto", Terminal()) == "bar"
    assert resolve("auto", io.StringIO()) == "lines"
    assert resolve("off", Terminal()) == "off"


def test_lines_say_how_far_how_fast_and_how_long_is_left():
    out = io.StringIO()
    with Progress(400, "embedding", "texts", "auto", stream=out, every=0) as bar:
        bar.note("passages of 1/3 documents")
        for _ in range(4):
            bar.update(100)
    lines = out.getvalue().splitlines()
    assert lines[0] == "embedding: 400 texts to go"
    assert re.fullmatch(r"embedding: 100/400 texts \(25%\), [\d,.]+ texts/s, about \d+ s left "
                        r"\[passages of 1/3 documents\]", lines[1])
    assert re.fullmatch(r"embedding: 400 texts in \d+ s \([\d,.]+ texts/s\) \[passages of 1/3 documents\]", lines[-1])
    assert "\r" not in out.getvalue()  # no bar redraws in a log


def test_lines_are_spaced_out():
    out = io.StringIO()
    with Progress(1000, "embedding", "texts", "lines", stream=out, every=3600) as bar:
        for _ in range(1000):
            bar.update(1)
    assert len(out.getvalue().splitlines()) == 2  # the start and the end, nothing in between


def test_an_interrupted_job_does_not_claim_to_be_done():
    out = io.StringIO()
    with pytest.raises(KeyboardInterrupt):
        with Progress(10, "embedding", "texts", "lines", stream=out) as bar:
            bar.update(3)
            raise KeyboardInterrupt
    assert " in " not in out.getvalue().splitlines()[-1]


def test_a_bar_on_a_terminal_and_nothing_when_off():
    term = Terminal()
    with Progress(10, "fetching", "wheels", "auto", stream=term) as bar:
        bar.update(10)
    assert "10/10" in term.getvalue()
    quiet = io.StringIO()
    with Progress(10, "fetching", "wheels", "off", stream=quiet) as bar:
        bar.update(10)
    assert quiet.getvalue() == ""
