import pytest

from ingest.loaders import LoaderError, document_from_text, load_file, slugify

ZH = "华为云使用国产升腾AI芯片。腾讯云在生成式AI改造后销售SaaS应用。"


def test_txt_utf8_and_gb18030(tmp_path):
    utf8 = tmp_path / "a.txt"
    utf8.write_text("标题\n\n" + ZH, encoding="utf-8")
    gbk = tmp_path / "b.txt"
    gbk.write_bytes(("标题\n\n" + ZH).encode("gb18030"))
    for path in (utf8, gbk):
        doc = load_file(path)
        assert ZH in doc.text
        assert doc.title == "标题"


def test_markdown_title_from_heading(tmp_path):
    path = tmp_path / "Cloud Notes.md"
    path.write_text("# 云厂商笔记\n\n" + ZH, encoding="utf-8")
    doc = load_file(path)
    assert doc.title == "云厂商笔记"
    assert doc.doc_id == "cloud-notes"
    assert ZH in doc.text


def test_html_drops_scripts_and_keeps_text(tmp_path):
    path = tmp_path / "page.html"
    path.write_text(
        "<html><head><title>云对比</title><style>p{color:red}</style></head>"
        f"<body><script>alert('x')</script><h1>正文</h1><p>{ZH}</p></body></html>",
        encoding="utf-8",
    )
    doc = load_file(path)
    assert doc.title == "云对比"
    assert ZH in doc.text
    assert "alert" not in doc.text and "color" not in doc.text


def test_docx(tmp_path):
    import docx

    path = tmp_path / "report.docx"
    document = docx.Document()
    document.core_properties.title = "报告"
    document.add_paragraph("第一段。")
    document.add_paragraph(ZH)
    document.save(str(path))
    doc = load_file(path)
    assert doc.title == "报告"
    assert doc.text == "第一段。\n" + ZH


def test_pdf_with_text_layer(tmp_path):
    from reportlab.lib.pagesizes import A4
    from reportlab.pdfgen import canvas

    path = tmp_path / "cloud.pdf"
    c = canvas.Canvas(str(path), pagesize=A4)
    c.setTitle("Cloud vendors")
    c.drawString(72, 750, "Amazon Bedrock hosts more than 20 models from 7 companies.")
    c.showPage()
    c.drawString(72, 750, "Azure follows vertical integration.")
    c.save()
    doc = load_file(path)
    assert doc.title == "Cloud vendors"
    assert "Amazon Bedrock hosts more than 20 models" in doc.text
    assert "Azure follows vertical integration." in doc.text


def test_pdf_without_text_layer_says_so(tmp_path):
    from reportlab.pdfgen import canvas

    path = tmp_path / "scan.pdf"
    c = canvas.Canvas(str(path))
    c.rect(100, 100, 200, 200, fill=1)  # a picture, no text
    c.save()
    with pytest.raises(LoaderError, match="no text layer"):
        load_file(path)


@pytest.mark.parametrize(
    ("name", "content", "message"),
    [
        ("empty.txt", b"  \n\n ", "no text"),
        ("binary.txt", b"\x00\x01\x02abc", "binary"),
        ("fake.pdf", b"not a pdf at all", "not a readable PDF"),
        ("fake.docx", b"not a zip", "not a readable .docx"),
        ("image.png", b"\x89PNG", "unsupported file type"),
    ],
)
def test_bad_files_get_clear_errors(tmp_path, name, content, message):
    path = tmp_path / name
    path.write_bytes(content)
    with pytest.raises(LoaderError, match=message):
        load_file(path)


def test_text_documents_and_ids():
    doc = document_from_text("  正文。 ", title="My Title")
    assert doc.doc_id == "my-title" and doc.text == "正文。"
    assert slugify("生成式 AI/云") == "生成式-ai-云"
    with pytest.raises(LoaderError):
        document_from_text(" \n ", title="x")
