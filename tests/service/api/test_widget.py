"""The chat widget in a real headless Chromium, embedded by a page on another origin."""

import shutil
import time

import pytest

from tests.conftest import REPO_ROOT, RunningServer

pytestmark = pytest.mark.slow

ARTIFACTS = REPO_ROOT / "var" / "test-artifacts"
XSS = "<img src=x onerror=window.__pwned=1>"


@pytest.fixture(scope="module")
def browser():
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    chromium, driver = shutil.which("chromium"), shutil.which("chromedriver")
    if not chromium or not driver:
        pytest.fail("Debian's chromium and chromium-driver are needed for the widget tests; `make test` installs them")
    options = webdriver.ChromeOptions()
    options.binary_location = chromium
    for flag in ("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync", "--disable-dev-shm-usage"):
        options.add_argument(flag)
    d = webdriver.Chrome(service=Service(driver), options=options)
    d.set_window_size(1280, 860)
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    yield d
    d.quit()


def wait(condition, timeout=30):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = condition()
        if value:
            return value
        time.sleep(0.1)
    raise AssertionError("timed out waiting for the widget")


def open_widget(browser, url):
    from selenium.webdriver.common.by import By

    browser.get(url)
    browser.execute_script("sessionStorage.clear()")
    browser.get(url)
    root = wait(lambda: browser.find_elements(By.ID, "citeqa-widget"))[0].shadow_root
    return root


def q(root, selector):
    from selenium.webdriver.common.by import By

    return root.find_elements(By.CSS_SELECTOR, selector)


def ask(root, question):
    from selenium.webdriver.common.keys import Keys

    box = q(root, "textarea")[0]
    box.send_keys(question)
    box.send_keys(Keys.ENTER)


def test_ask_stream_cite_and_open_the_passage(browser, server, host_pages):
    root = open_widget(browser, host_pages.url(server.url))
    launcher = q(root, ".launcher")[0]
    assert launcher.is_displayed()  # the host page's `button{display:none!important}` does not reach it
    assert launcher.get_attribute("aria-expanded") == "false"
    browser.save_screenshot(str(ARTIFACTS / "widget-closed.png"))

    launcher.click()
    assert q(root, ".panel")[0].is_displayed() and launcher.get_attribute("aria-expanded") == "true"
    ask(root, "微软Azure走的是哪种路线？")
    # Streamed: the answer text with a citation marker appears in the assistant bubble.
    markers = wait(lambda: q(root, ".msg.bot .cite"))
    assert "垂直整合" in q(root, ".msg.bot")[0].text
    assert q(root, ".msg.user")[0].text == "微软Azure走的是哪种路线？"
    browser.save_screenshot(str(ARTIFACTS / "widget-answer.png"))

    markers[0].click()
    viewer = q(root, ".viewer")[0]
    assert viewer.is_displayed()
    assert q(root, ".viewer h3")[0].text.startswith("[1] 生成式AI战略拼图对比中美云厂商")
    assert "垂直整合" in q(root, ".viewer mark")[0].text
    browser.save_screenshot(str(ARTIFACTS / "widget-citation.png"))


def test_keyboard_only_and_escape(browser, server, host_pages):
    from selenium.webdriver.common.action_chains import ActionChains
    from selenium.webdriver.common.keys import Keys

    root = open_widget(browser, host_pages.url(server.url))
    ActionChains(browser).send_keys(Keys.TAB).send_keys(Keys.ENTER).perform()
    assert q(root, ".panel")[0].is_displayed()
    ActionChains(browser).send_keys("谷歌云的策略是什么？").send_keys(Keys.ENTER).perform()
    wait(lambda: q(root, ".msg.bot .cite"))
    ActionChains(browser).send_keys(Keys.ESCAPE).perform()
    assert not q(root, ".panel")[0].is_displayed()
    focused = browser.execute_script("return document.getElementById('citeqa-widget').shadowRoot.activeElement.className")
    assert focused == "launcher"
    labels = [e.get_attribute("aria-label") for e in q(root, "button, textarea, [role=log]")]
    assert all(labels[:1]) and "Your question" in labels and "Conversation" in labels


def test_conversation_survives_a_reload_until_reset(browser, server, host_pages):
    root = open_widget(browser, host_pages.url(server.url))
    q(root, ".launcher")[0].click()
    ask(root, "阿里云走的是哪种路线？")
    wait(lambda: q(root, ".msg.bot .cite"))
    ask(root, "那百度呢？")  # the widget sends the earlier turns as history
    wait(lambda: len(q(root, ".msg.bot .cite")) >= 2 and "百度" in q(root, ".msg.bot")[-1].text)
    assert "垂直整合" in q(root, ".msg.bot")[-1].text

    browser.refresh()
    root = wait(lambda: q(browser.find_element("id", "citeqa-widget").shadow_root, ".launcher")) and \
        browser.find_element("id", "citeqa-widget").shadow_root
    q(root, ".launcher")[0].click()
    assert len(q(root, ".msg")) == 4
    q(root, "header button")[0].click()  # new conversation
    assert q(root, ".msg") == [] and q(root, ".empty")


def test_phone_width_has_no_horizontal_overflow(browser, server, host_pages):
    browser.set_window_size(375, 812)
    try:
        root = open_widget(browser, host_pages.url(server.url, lang="zh"))
        q(root, ".launcher")[0].click()
        ask(root, "Which vendor bets on both open-source and closed models?")
        wait(lambda: q(root, ".msg.bot .cite"))
        width = browser.execute_script("return window.innerWidth")
        assert browser.execute_script("return document.documentElement.scrollWidth") <= width
        rect = browser.execute_script("return document.getElementById('citeqa-widget').shadowRoot.querySelector('.panel').getBoundingClientRect().toJSON()")
        assert rect["left"] >= 0 and rect["right"] <= width
        assert q(root, "header h2")[0].text == "citeqa test"
        assert q(root, "textarea")[0].get_attribute("aria-label") == "你的问题"  # data-lang="zh"
        browser.save_screenshot(str(ARTIFACTS / "widget-phone.png"))
    finally:
        browser.set_window_size(1280, 860)


def test_unreachable_and_refused_origins_show_a_message(browser, server, host_pages):
    root = open_widget(browser, host_pages.url("http://127.0.0.1:9", src=server.url))  # nothing listens on port 9
    q(root, ".launcher")[0].click()
    ask(root, "微软Azure走的是哪种路线？")
    error = wait(lambda: q(root, ".msg.bot.error"))[0]
    assert "Cannot reach the server" in error.text

    # The same page from an origin the server does not allow: the browser refuses the answer.
    from tests.conftest import HostPages

    stranger = HostPages(host="127.0.0.2")
    try:
        root = open_widget(browser, stranger.url(server.url))
        q(root, ".launcher")[0].click()
        ask(root, "微软Azure走的是哪种路线？")
        assert "Cannot reach the server" in wait(lambda: q(root, ".msg.bot.error"))[0].text
    finally:
        stranger.close()


def test_document_text_is_never_html(browser, tmp_path_factory, embedder, host_pages):
    from service.api.app import create_app
    from service.config import Settings
    from service.indexing import ingest_corpus

    corpus = tmp_path_factory.mktemp("xss-corpus")
    (corpus / "xss.txt").write_text(f"测试文档\n\n华为云的测试芯片叫做{XSS}芯片。它只用于测试网页渲染。", encoding="utf-8")
    settings = Settings(index_dir=tmp_path_factory.mktemp("xss-index"), corpus_dir=corpus, cors_origins=[host_pages.origin])
    ingest_corpus(settings, embedder)
    with RunningServer(create_app(settings, embedder=embedder)) as xss_server:
        root = open_widget(browser, host_pages.url(xss_server.url))
        q(root, ".launcher")[0].click()
        ask(root, "华为云的测试芯片叫做什么？")
        wait(lambda: q(root, ".msg.bot .cite"))
        assert XSS in q(root, ".msg.bot")[0].text
        q(root, ".msg.bot .cite")[0].click()
        assert XSS in q(root, ".viewer .text")[0].text
        assert q(root, "img") == [] and not browser.execute_script("return window.__pwned")


@pytest.mark.llm
def test_generative_answers_stream_and_say_how_they_were_made(browser, generative_server, host_pages):
    root = open_widget(browser, host_pages.url(generative_server.url, lang="zh", mode="generative"))
    q(root, ".launcher")[0].click()
    ask(root, "微软Azure走的是哪种路线？")
    label = wait(lambda: q(root, ".msg.bot .mode"), timeout=120)[0]
    assert label.get_attribute("data-mode") == "generative" and "核对" in label.text
    bubble = q(root, ".msg.bot")[0]
    assert "垂直整合" in bubble.text
    browser.save_screenshot(str(ARTIFACTS / "widget-generative.png"))
    q(root, ".msg.bot .cite")[0].click()
    assert "垂直整合" in q(root, ".viewer mark")[0].text
