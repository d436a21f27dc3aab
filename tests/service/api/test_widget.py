"""The chat widget in a real headless Chromium, embedded by a page on another origin."""

import os
import shutil
import time
from pathlib import Path

import pytest

from tests.conftest import REPO_ROOT, HostPages, RunningServer
from tests.service.api.widget_proxy import WidgetProxy

pytestmark = pytest.mark.slow

ARTIFACTS = REPO_ROOT / "var" / "test-artifacts"
XSS = "<img src=x onerror=window.__pwned=1>"
HOSTILE_SHEETS = sorted((Path(__file__).parent / "hostile_css").glob("*.css"))
# The widget's shadow root, for scripts run in the page.
ROOT = "const r = document.getElementById('citeqa-widget').shadowRoot;"


@pytest.fixture(scope="module")
def browser():
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    chromium, driver = shutil.which("chromium"), shutil.which("chromedriver")
    if not chromium or not driver:
        pytest.fail("Debian's chromium and chromium-driver are needed for the widget tests; `make test` installs them")
    options = webdriver.ChromeOptions()
    options.binary_location = chromium
    options.set_capability("goog:loggingPrefs", {"browser": "ALL"})  # console.warn hints, read by get_log
    for flag in ("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync", "--disable-dev-shm-usage"):
        options.add_argument(flag)
    d = webdriver.Chrome(service=Service(driver), options=options)
    d.set_window_size(1280, 860)
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    yield d
    d.quit()


def wait(condition, timeout=30):
    from selenium.common.exceptions import StaleElementReferenceException

    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            value = condition()
        except StaleElementReferenceException:  # the element was replaced between finding and reading it
            value = None
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


def answered(root, count=1, timeout=30):
    """Waits until ``count`` answers are complete and returns the last bubble.

    Each streamed event rebuilds the answer's bubble, so an element found while it streams goes stale at the
    next event (or at `done`): tests touch an answer's elements only once it is complete.
    """
    def done():
        bots = q(root, ".msg.bot")
        return len(bots) >= count and bots[count - 1].get_attribute("aria-busy") is None and bots[count - 1]
    return wait(done, timeout)


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
    bubble = answered(root)
    markers = q(root, ".msg.bot .cite")
    assert markers and "垂直整合" in bubble.text
    assert q(root, ".msg.user")[0].text == "微软Azure走的是哪种路线？"
    browser.save_screenshot(str(ARTIFACTS / "widget-answer.png"))

    markers[0].click()
    viewer = q(root, ".viewer")[0]
    assert viewer.is_displayed()
    assert_viewer_covers_the_conversation(browser)
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
    assert q(answered(root), ".cite")
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
    assert q(answered(root), ".cite")
    ask(root, "那百度呢？")  # the widget sends the earlier turns as history
    second = answered(root, 2)
    assert "百度" in second.text and "垂直整合" in second.text and q(second, ".cite")

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
        assert q(answered(root), ".cite")
        width = browser.execute_script("return window.innerWidth")
        assert browser.execute_script("return document.documentElement.scrollWidth") <= width
        rect = browser.execute_script("return document.getElementById('citeqa-widget').shadowRoot.querySelector('.panel').getBoundingClientRect().toJSON()")
        assert rect["left"] >= 0 and rect["right"] <= width
        assert q(root, "header h2")[0].text == "citeqa test"
        assert q(root, "textarea")[0].get_attribute("aria-label") == "你的问题"  # data-lang="zh"
        browser.save_screenshot(str(ARTIFACTS / "widget-phone.png"))
    finally:
        browser.set_window_size(1280, 860)


def console_messages(browser, until, timeout=10):
    """The page's console messages (get_log empties the buffer, so keep reading) until ``until(messages)``."""
    seen = []
    wait(lambda: seen.extend(e["message"] for e in browser.get_log("browser")) or until(seen), timeout)
    return seen


def test_unreachable_and_refused_origins_are_told_apart(browser, server, host_pages):
    root = open_widget(browser, host_pages.url("http://127.0.0.1:9", src=server.url))  # nothing listens on port 9
    q(root, ".launcher")[0].click()
    ask(root, "微软Azure走的是哪种路线？")
    dead = wait(lambda: q(root, ".msg.bot.error"))[0].text
    assert "Cannot reach the server" in dead and "CITEQA" not in dead

    # The same page from an origin the server does not allow: the server answers, the browser withholds it.
    stranger = HostPages(host="127.0.0.2")
    try:
        browser.get_log("browser")  # drop what earlier pages logged
        root = open_widget(browser, stranger.url(server.url, lang="zh"))
        q(root, ".launcher")[0].click()
        ask(root, "微软Azure走的是哪种路线？")
        refused = wait(lambda: q(root, ".msg.bot.error"))[0].text
        assert "跨域" in refused and "无法连接服务器" not in refused
        # The site owner, not the reader, can fix it: the console says how.
        hints = console_messages(browser, lambda seen: any("CITEQA_CORS_ORIGINS" in m for m in seen))
        assert any(stranger.origin in m for m in hints if "CITEQA_CORS_ORIGINS" in m)
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
        assert q(answered(root), ".cite")
        assert XSS in q(root, ".msg.bot")[0].text
        q(root, ".msg.bot .cite")[0].click()
        assert XSS in q(root, ".viewer .text")[0].text
        assert q(root, "img") == [] and not browser.execute_script("return window.__pwned")


@pytest.mark.llm
def test_generative_answers_stream_and_say_how_they_were_made(browser, generative_server, host_pages):
    # The default 30 s silence limit: while the LLM writes its first sentence the server sends keep-alive comments.
    root = open_widget(browser, host_pages.url(generative_server.url, lang="zh", mode="generative"))
    q(root, ".launcher")[0].click()
    ask(root, "微软Azure走的是哪种路线？")
    bubble = answered(root, timeout=150)
    assert "error" not in bubble.get_attribute("class"), bubble.text
    label = q(root, ".msg.bot .mode")[0]
    assert label.get_attribute("data-mode") == "generative" and "核对" in label.text
    assert "垂直整合" in bubble.text
    browser.save_screenshot(str(ARTIFACTS / "widget-generative.png"))
    q(root, ".msg.bot .cite")[0].click()
    assert "垂直整合" in q(root, ".viewer mark")[0].text


# --- helpers for the tests below ---------------------------------------------------------------------------

def rect(browser, selector):
    return browser.execute_script(ROOT + "return r.querySelector(arguments[0]).getBoundingClientRect().toJSON()", selector)


def viewport(browser):
    return browser.execute_script("return {w: innerWidth, h: innerHeight, "
                                  "scroll: document.documentElement.scrollWidth}")


def inside(box, view):
    return box["left"] >= 0 and box["top"] >= 0 and box["right"] <= view["w"] and box["bottom"] <= view["h"]


def assert_viewer_covers_the_conversation(browser):
    header, viewer, log = rect(browser, "header"), rect(browser, ".viewer"), rect(browser, ".log")
    # No sliver of the conversation between the header and "← Back".
    assert abs(viewer["top"] - header["bottom"]) < 0.5
    assert viewer["top"] <= log["top"] and viewer["bottom"] >= log["bottom"]
    assert viewer["left"] <= log["left"] and viewer["right"] >= log["right"]


@pytest.fixture
def proxy(server):
    running = WidgetProxy(server.url)
    yield running
    running.release.set()
    running.close()


# --- the demo page ----------------------------------------------------------------------------------------

@pytest.mark.parametrize(("width", "height"), [(375, 812), (1280, 860)])
def test_demo_page_fits_a_phone_and_a_desktop(browser, server, width, height):
    browser.set_window_size(width, height)
    try:
        browser.get(server.url + "/")
        browser.execute_script("sessionStorage.clear()")
        browser.get(server.url + "/")
        root = wait(lambda: browser.find_elements("id", "citeqa-widget"))[0].shadow_root
        view = viewport(browser)
        assert abs(view["w"] - width) <= 20, "the window did not get the size the test is about"
        assert view["scroll"] <= view["w"], "the demo page scrolls sideways"
        assert inside(rect(browser, ".launcher"), view) and q(root, ".launcher")[0].is_displayed()
        q(root, ".launcher")[0].click()
        ask(root, "微软Azure走的是哪种路线？")
        answered(root)
        assert inside(rect(browser, ".panel"), view)
        for selector in ("form button", "header button:last-child", "textarea"):
            assert inside(rect(browser, selector), view), selector
        assert viewport(browser)["scroll"] <= view["w"]
        shot = ARTIFACTS / f"demo-{width}.png"
        browser.save_screenshot(str(shot))
        if os.environ.get("CITEQA_UPDATE_DOCS_SCREENSHOTS"):  # the screenshots in docs/ come from here
            shutil.copyfile(shot, REPO_ROOT / "docs" / shot.name)
    finally:
        browser.set_window_size(1280, 860)


# --- hostile host pages -------------------------------------------------------------------------------------

@pytest.mark.parametrize("sheet", HOSTILE_SHEETS, ids=lambda p: p.stem)
def test_hostile_page_css_does_not_reach_the_widget(browser, server, host_pages, sheet):
    assert len(HOSTILE_SHEETS) >= 10
    root = open_widget(browser, host_pages.url(server.url, css=sheet.read_text(encoding="utf-8")))
    view = viewport(browser)
    launcher = q(root, ".launcher")[0]
    assert inside(rect(browser, ".launcher"), view) and launcher.is_displayed()
    # Nothing of the page lies over it: a click at its centre reaches it.
    on_top = browser.execute_script(ROOT + "const b = r.querySelector('.launcher').getBoundingClientRect();"
                                    "return r.elementFromPoint(b.x + b.width / 2, b.y + b.height / 2) === r.querySelector('.launcher')")
    assert on_top
    launcher.click()
    assert q(root, ".panel")[0].is_displayed() and inside(rect(browser, ".panel"), view)
    ask(root, "微软Azure走的是哪种路线？")
    bubble = answered(root)
    assert "垂直整合" in bubble.text and bubble.is_displayed()
    style = browser.execute_script(
        ROOT + "const s = getComputedStyle(r.querySelector('.msg.bot'));"
        "return {ls: s.letterSpacing, tt: s.textTransform, fs: s.fontStyle, ta: s.textAlign, sh: s.textShadow,"
        " dir: s.direction, size: s.fontSize, color: s.color, ws: s.wordSpacing, weight: s.fontWeight,"
        " wm: s.writingMode, variant: s.fontVariantCaps}")
    assert style == {"ls": "normal", "tt": "none", "fs": "normal", "ta": "left", "sh": "none", "dir": "ltr",
                     "size": "14px", "color": "rgb(27, 27, 27)", "ws": "0px", "weight": "400",
                     "wm": "horizontal-tb", "variant": "normal"}
    assert q(root, "textarea")[0].is_displayed() and q(root, "form button")[0].is_displayed()
    assert inside(rect(browser, "form button"), view)
    browser.save_screenshot(str(ARTIFACTS / f"widget-hostile-{sheet.stem}.png"))


# --- questions are never lost -------------------------------------------------------------------------------

def ask_and_stall(browser, proxy, url, question):
    """Open the widget at ``url``, ask, and return once the proxy holds the answer back."""
    proxy.stall = True
    root = open_widget(browser, url)
    q(root, ".launcher")[0].click()
    ask(root, question)
    wait(proxy.stalled.is_set)
    return root


def test_enter_while_an_answer_is_pending_keeps_the_question(browser, proxy, host_pages):
    from selenium.webdriver.common.keys import Keys

    root = ask_and_stall(browser, proxy, host_pages.url(proxy.url), "微软Azure走的是哪种路线？")
    ask(root, "谷歌云的策略是什么？")
    box = q(root, "textarea")[0]
    assert box.get_attribute("value") == "谷歌云的策略是什么？"  # kept, not swallowed
    notice = q(root, ".notice")[0]
    assert notice.is_displayed() and "wait" in notice.text
    assert len(q(root, ".msg.user")) == 1

    proxy.release.set()
    answered(root)
    box.send_keys(Keys.ENTER)  # now it goes
    assert "谷歌云" in answered(root, 2).text
    assert [a["question"] for a in proxy.asks] == ["微软Azure走的是哪种路线？", "谷歌云的策略是什么？"]
    assert not notice.is_displayed()


def test_new_conversation_cancels_the_pending_answer(browser, proxy, host_pages):
    root = ask_and_stall(browser, proxy, host_pages.url(proxy.url), "微软Azure走的是哪种路线？")
    send = q(root, "form button")[0]
    assert send.get_attribute("aria-disabled") == "true"
    q(root, "header button")[0].click()  # new conversation
    assert send.get_attribute("aria-disabled") == "false" and q(root, ".msg") == []
    wait(lambda: proxy.hangups == 1)  # the browser dropped the request: it was aborted, not left running

    proxy.stall = False
    ask(root, "谷歌云的策略是什么？")
    assert "谷歌云" in answered(root).text
    assert len(q(root, ".msg")) == 2  # the cancelled answer never landed in the new conversation


def test_reload_while_pending_gives_the_question_back(browser, proxy, host_pages):
    from selenium.webdriver.common.keys import Keys

    root = ask_and_stall(browser, proxy, host_pages.url(proxy.url, lang="zh"), "阿里云走的是哪种路线？")
    browser.refresh()
    root = wait(lambda: browser.find_elements("id", "citeqa-widget"))[0].shadow_root
    q(root, ".launcher")[0].click()
    box = q(root, "textarea")[0]
    assert box.get_attribute("value") == "阿里云走的是哪种路线？"
    assert "放回输入框" in q(root, ".notice")[0].text and q(root, ".msg") == []
    browser.refresh()  # and once more before sending it: still there
    root = wait(lambda: browser.find_elements("id", "citeqa-widget"))[0].shadow_root
    q(root, ".launcher")[0].click()
    box = q(root, "textarea")[0]
    assert box.get_attribute("value") == "阿里云走的是哪种路线？"

    proxy.stall = False
    box.send_keys(Keys.ENTER)
    bubble = answered(root)
    assert "error" not in bubble.get_attribute("class") and q(root, ".msg.bot .cite")
    assert [a["question"] for a in proxy.asks] == ["阿里云走的是哪种路线？"] * 2


# --- timeouts -----------------------------------------------------------------------------------------------

def test_an_answer_streaming_longer_than_the_timeout_is_not_cut_off(browser, proxy, host_pages):
    # The timeout counts silence, not the whole answer: three events (citations, the text, done), each
    # after a gap well under the 4 s of silence allowed here, together longer than 4 s. (The same holds
    # for the default of 30 s; a 4 s setting tests it in a sixth of the time.)
    proxy.gaps = [0.5, 2.5, 2.5]
    root = open_widget(browser, host_pages.url(proxy.url, timeout=4))
    q(root, ".launcher")[0].click()
    started = time.monotonic()
    ask(root, "微软Azure走的是哪种路线？")
    streaming = wait(lambda: [b for b in q(root, ".msg.bot") if "垂直整合" in b.text], timeout=20)[0]
    assert streaming.get_attribute("aria-busy") == "true"
    bubble = wait(lambda: q(root, ".msg.bot .mode") and q(root, ".msg.bot")[0], timeout=20)
    assert time.monotonic() - started > 4
    assert "error" not in bubble.get_attribute("class") and "垂直整合" in bubble.text
    assert "stopped responding" not in bubble.text and q(root, ".msg.bot .sources")


def test_a_citation_focused_while_the_answer_streams_keeps_the_focus(browser, proxy, host_pages):
    proxy.gaps = [0.3, 0.3, 3]  # citations, the text, then `done` (which rebuilds the bubble) 3 s later
    root = open_widget(browser, host_pages.url(proxy.url))
    q(root, ".launcher")[0].click()
    ask(root, "微软Azure走的是哪种路线？")
    wait(lambda: q(root, ".msg.bot[aria-busy] .cite"), timeout=20)
    label = browser.execute_script(ROOT + "const b = r.querySelector('.msg.bot .cite'); b.focus(); return b.getAttribute('aria-label')")
    answered(root, timeout=20)
    focused = browser.execute_script(ROOT + "const a = r.activeElement; return a && [a.className, a.getAttribute('aria-label')]")
    assert focused == ["cite", label]


def test_a_silent_server_times_out_and_keeps_the_text_shown(browser, proxy, host_pages):
    proxy.stall = True  # the answer's text arrives, then nothing
    root = open_widget(browser, host_pages.url(proxy.url, timeout=2))
    q(root, ".launcher")[0].click()
    ask(root, "微软Azure走的是哪种路线？")
    bubble = wait(lambda: q(root, ".msg.bot.error"), timeout=20)[0]
    assert "stopped responding" in bubble.text and "垂直整合" in bubble.text  # the text shown stays
    wait(lambda: proxy.hangups == 1)
    assert q(root, "form button")[0].get_attribute("aria-disabled") == "false"


# --- conversation -------------------------------------------------------------------------------------------

def test_live_region_gets_only_the_new_messages(browser, server, host_pages):
    root = open_widget(browser, host_pages.url(server.url))
    q(root, ".launcher")[0].click()
    ask(root, "阿里云走的是哪种路线？")
    answered(root)
    browser.execute_script(ROOT + """
        const log = r.querySelector('[aria-live]');
        window.__seen = {added: 0, removed: 0, removedMessages: 0};
        log.firstElementChild.__first = true;
        new MutationObserver(records => records.forEach(m => {
            if (m.target === log) { __seen.added += m.addedNodes.length; __seen.removed += m.removedNodes.length; }
            m.removedNodes.forEach(n => { if (n.classList && n.classList.contains('msg')) __seen.removedMessages++; });
        })).observe(log, {childList: true, subtree: true});""")
    ask(root, "那百度呢？")
    answered(root, 2)
    seen = browser.execute_script("return window.__seen")
    # The question and its answer are added; nothing already read out is removed or re-added.
    assert seen == {"added": 2, "removed": 0, "removedMessages": 0}
    assert browser.execute_script(ROOT + "return r.querySelector('[aria-live]').firstElementChild.__first === true")
    assert len(q(root, "[aria-live] > .msg")) == 4


def test_a_failed_question_is_left_out_of_the_history(browser, proxy, host_pages):
    root = open_widget(browser, host_pages.url(proxy.url))
    q(root, ".launcher")[0].click()
    ask(root, "阿里云走的是哪种路线？")
    answered(root)
    proxy.fail_next = True
    failed = "腾讯云走的是哪种路线？"
    ask(root, failed)
    assert "made to fail" in wait(lambda: q(root, ".msg.bot.error"))[0].text
    ask(root, "那百度呢？")
    answered(root, 3)
    history = proxy.asks[2]["history"]
    assert [t["role"] for t in history] == ["user", "assistant"]
    assert history[0]["content"] == "阿里云走的是哪种路线？"
    assert all(turn["content"] != failed and "made to fail" not in turn["content"] for turn in history)


def test_the_enter_that_confirms_an_ime_candidate_does_not_send(browser, server, host_pages):
    root = open_widget(browser, host_pages.url(server.url, lang="zh"))
    q(root, ".launcher")[0].click()
    q(root, "textarea")[0].send_keys("微软Azure走的是哪种路线？")
    # Safari's candidate-confirming Enter: isComposing false, keyCode 229.
    kept = browser.execute_script(ROOT + """
        const box = r.querySelector('textarea');
        const e = new KeyboardEvent('keydown', {key: 'Enter', bubbles: true, composed: true, cancelable: true});
        Object.defineProperty(e, 'keyCode', {get: () => 229});
        box.dispatchEvent(e);
        return [box.value, e.defaultPrevented, r.querySelectorAll('.msg.user').length];""")
    assert kept == ["微软Azure走的是哪种路线？", False, 0]
    from selenium.webdriver.common.keys import Keys

    q(root, "textarea")[0].send_keys(Keys.ENTER)  # a real Enter still sends
    assert "垂直整合" in answered(root).text


def test_a_refusal_offers_the_closest_passages(browser, server, host_pages):
    root = open_widget(browser, host_pages.url(server.url, lang="zh"))
    q(root, ".launcher")[0].click()
    ask(root, "红烧肉怎么做才好吃？")
    bubble = answered(root)
    assert "refused" in bubble.get_attribute("class")
    summary = q(root, ".msg.bot details.closest summary")[0]
    assert summary.text.startswith("最接近的段落")
    summary.click()
    passages = q(root, ".msg.bot details.closest li button")
    assert passages and all(p.is_displayed() for p in passages)
    passages[0].click()
    assert q(root, ".viewer")[0].is_displayed() and q(root, ".viewer .text")[0].text


# --- layout -------------------------------------------------------------------------------------------------

def test_layout_title_sources_markers_input_and_passage_view(browser, server, host_pages):
    from selenium.webdriver.common.keys import Keys

    title = "Docs Q&A (cross-origin test)"
    root = open_widget(browser, host_pages.url(server.url, title=title))
    q(root, ".launcher")[0].click()
    h2 = q(root, "header h2")[0]
    assert h2.text == title
    assert browser.execute_script(ROOT + "const h = r.querySelector('header h2');"
                                  "return h.scrollWidth <= h.clientWidth && h.scrollHeight <= h.clientHeight")

    box = q(root, "textarea")[0]
    one_line = box.size["height"]
    for _ in range(3):
        box.send_keys("line", Keys.SHIFT, Keys.ENTER, Keys.SHIFT)
    assert box.size["height"] > one_line + 30
    for _ in range(20):
        box.send_keys("line", Keys.SHIFT, Keys.ENTER, Keys.SHIFT)
    assert box.size["height"] <= 141  # grows to a limit, then scrolls
    box.send_keys(Keys.CONTROL, "a", Keys.CONTROL, Keys.BACKSPACE)
    assert box.size["height"] == one_line

    ask(root, "Which vendor bets on both open-source and closed models?")
    bubble = answered(root)
    items = [li.text for li in q(root, ".msg.bot .sources li")]
    assert len(items) >= 3 and len(set(items)) == len(items), items
    assert sum("Comparing the generative-AI" in item for item in items) == 1  # the title once, not on every line

    # At every panel width, no "." after a [n] starts a line of its own.
    broken = browser.execute_script(ROOT + """
        const style = document.createElement('style'); r.appendChild(style);
        const bad = [];
        for (let w = 220; w <= 380; w += 3) {
            style.textContent = '.panel{width:' + w + 'px !important}';
            r.querySelectorAll('.msg.bot .cite').forEach(button => {
                const walker = document.createTreeWalker(r.querySelector('.msg.bot'), NodeFilter.SHOW_TEXT);
                walker.currentNode = button.lastChild;
                const next = walker.nextNode();
                if (!next || !/^[.。,，;；:：!！?？)）]/.test(next.data)) return;
                const range = document.createRange(); range.setStart(next, 0); range.setEnd(next, 1);
                const mark = button.getBoundingClientRect(), stop = range.getBoundingClientRect();
                if (Math.abs(stop.bottom - mark.bottom) > mark.height / 2 + 4) bad.push([w, button.textContent]);
            });
        }
        style.remove();
        return bad;""")
    assert broken == []
    assert q(root, ".msg.bot .cited") and "." in bubble.text

    q(root, ".msg.bot .sources button")[1].click()
    assert_viewer_covers_the_conversation(browser)
