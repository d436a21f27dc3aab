import os
import pickle

import pytest

from evals.bench import inews


class Exploit:
    def __reduce__(self):
        return (os.system, ("touch /tmp/citeqa-pwned",))


def test_plain_lists_load():
    data = pickle.dumps((["标题"], ["正文。"], [1]))
    assert inews.load_plain_pickle(data) == (["标题"], ["正文。"], [1])


def test_a_pickle_that_calls_code_is_refused(tmp_path):
    marker = "/tmp/citeqa-pwned"
    if os.path.exists(marker):
        os.unlink(marker)
    with pytest.raises(pickle.UnpicklingError, match="posix.system|os.system"):
        inews.load_plain_pickle(pickle.dumps((["t"], [Exploit()], [0])))
    assert not os.path.exists(marker)


def test_objects_without_globals_are_still_checked():
    # A set needs no find_class under protocol 4+, but is not plain list/str/number data.
    with pytest.raises(pickle.UnpicklingError, match="set"):
        inews.load_plain_pickle(pickle.dumps(([{"a"}], [], []), protocol=5))


@pytest.mark.slow
def test_the_real_dataset_has_7353_articles(tmp_path):
    folder = inews.fetch()
    rows = sum(len(inews.load_plain_pickle((folder / f"{s}.pkl").read_bytes())[0]) for s in inews.SPLITS)
    assert rows == 7353
    articles = inews.load_articles()
    # 71 rows have a title and no text; they are skipped.
    assert len(articles) == 7282
    assert len({a.article_id for a in articles}) == len(articles)
    assert sum(len(a.text) for a in articles) / len(articles) > 1000
    n = inews.export(tmp_path, limit=3)
    files = sorted(tmp_path.glob("*.txt"))
    assert n == 3 and len(files) == 3
    assert files[0].read_text(encoding="utf-8").startswith(articles[0].title)
