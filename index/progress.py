"""Progress of long jobs (model fetch, ingest): a bar on a terminal, a plain line now and then otherwise.

A bar redrawn with carriage returns is noise in a log file or a CI console, and silence
looks like a hang (a first ingest here takes minutes), so when stderr is not a terminal
the same progress is written as whole lines, at most one every ``every`` seconds, with a
rate and an estimate of the time left.
"""

from __future__ import annotations

import sys
import time
from typing import Literal, TextIO

from tqdm import tqdm

ProgressMode = Literal["auto", "bar", "lines", "off"]


def resolve(mode: ProgressMode, stream: TextIO | None = None) -> ProgressMode:
    if mode != "auto":
        return mode
    stream = stream or sys.stderr
    return "bar" if getattr(stream, "isatty", lambda: False)() else "lines"


class Progress:
    """``update(n)`` as work is done; ``note`` sets a short status (e.g. "3/11 documents")."""

    def __init__(self, total: float, desc: str, unit: str, mode: ProgressMode = "auto", *,
                 stream: TextIO | None = None, every: float = 15.0) -> None:
        self.total, self.desc, self.unit, self.every = total, desc, unit, every
        self.stream = stream or sys.stderr
        self.mode = resolve(mode, self.stream) if total else "off"
        self.done = 0.0
        self.started = self.last = time.monotonic()
        self.status = ""
        self._bar = None
        if self.mode == "bar":
            self._bar = tqdm(total=total, desc=desc, unit=unit, file=self.stream, dynamic_ncols=True)

    def update(self, n: float) -> None:
        self.done += n
        if self._bar is not None:
            self._bar.update(n)
        elif self.mode == "lines" and time.monotonic() - self.last >= self.every:
            self.last = time.monotonic()
            self._line()

    def note(self, status: str) -> None:
        self.status = status
        if self._bar is not None:
            self._bar.set_postfix_str(status, refresh=False)

    def close(self) -> None:
        if self._bar is not None:
            self._bar.close()
            self._bar = None
        elif self.mode == "lines":
            took = time.monotonic() - self.started
            rate = self.done / took if took > 0 else 0.0
            print(f"{self.desc}: {_amount(self.done)} {self.unit} in {_duration(took)} "
                  f"({_amount(rate)} {self.unit}/s){self._status()}", file=self.stream, flush=True)
        self.mode = "off"

    def __enter__(self) -> "Progress":
        if self.mode == "lines":
            print(f"{self.desc}: {_amount(self.total)} {self.unit} to go{self._status()}",
                  file=self.stream, flush=True)
        return self

    def __exit__(self, *exc: object) -> None:
        if exc[0] is not None and self.mode == "lines":
            self.mode = "off"  # an interrupted job does not claim to be done
        self.close()

    def _line(self) -> None:
        took = time.monotonic() - self.started
        rate = self.done / took if took > 0 else 0.0
        left = (self.total - self.done) / rate if rate > 0 else None
        share = 100 * self.done / self.total if self.total else 100
        eta = f", about {_duration(left)} left" if left is not None else ""
        print(f"{self.desc}: {_amount(self.done)}/{_amount(self.total)} {self.unit} "
              f"({share:.0f}%), {_amount(rate)} {self.unit}/s{eta}{self._status()}",
              file=self.stream, flush=True)

    def _status(self) -> str:
        return f" [{self.status}]" if self.status else ""


def _amount(x: float) -> str:
    return f"{x:,.0f}" if x >= 100 or x == int(x) else f"{x:,.1f}"


def _duration(seconds: float) -> str:
    seconds = max(0, round(seconds))
    if seconds < 60:
        return f"{seconds} s"
    minutes, s = divmod(seconds, 60)
    if minutes < 60:
        return f"{minutes} min {s:02d} s"
    hours, m = divmod(minutes, 60)
    return f"{hours} h {m:02d} min"
