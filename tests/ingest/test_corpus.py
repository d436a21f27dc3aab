import json

import pytest

from ingest.corpus import load_corpus
from ingest.loaders import LoaderError


def test_bundled_corpus_has_the_source_article_with_metadata(repo_root):
    docs = {d.doc_id: d for d in load_corpus(repo_root / "corpus")}
    article = docs["caijing-2024-cloud-genai"]
    assert article.title == "生成式AI战略拼图对比中美云厂商"
    assert article.metadata["author"] == "吴俊宇"
    assert article.metadata["date"] == "2024-05-02"
    # Kept as published, typos included.
    assert "升腾AI芯片" in article.text and "Llamamama" in article.text


def test_bundled_article_matches_the_shared_source(repo_root):
    shared = repo_root.parent / "shared" / "source" / "000_a5aba12188e2c8bb.txt"
    if not shared.is_file():
        pytest.skip("shared/ is not beside this checkout")
    assert (repo_root / "corpus" / "caijing-2024-cloud-genai.txt").read_bytes() == shared.read_bytes()


def test_folder_without_manifest_and_duplicate_ids(tmp_path):
    (tmp_path / "a.txt").write_text("第一篇。", encoding="utf-8")
    (tmp_path / "sub").mkdir()
    (tmp_path / "sub" / "b.md").write_text("# B\n第二篇。", encoding="utf-8")
    (tmp_path / "synonyms.csv").write_text("a, b", encoding="utf-8")  # not a document
    docs = load_corpus(tmp_path)
    assert [d.doc_id for d in docs] == ["a", "b"]
    (tmp_path / "sub" / "a.md").write_text("重复。", encoding="utf-8")
    with pytest.raises(LoaderError, match="both map to doc_id"):
        load_corpus(tmp_path)


def test_broken_manifest_is_reported(tmp_path):
    (tmp_path / "a.txt").write_text("第一篇。", encoding="utf-8")
    (tmp_path / "manifest.json").write_text(json.dumps({"documents": [{"title": "no path"}]}), encoding="utf-8")
    with pytest.raises(LoaderError, match="not a valid manifest"):
        load_corpus(tmp_path)
