/*! citeqa chat widget: one file, no dependencies.
 * <script src="https://host/widget.js" data-api="https://host" data-title="..." data-lang="zh|en|auto"
 *         data-mode="extractive|generative|auto (default: the server's setting)"
 *         data-timeout="seconds of silence before giving up (default 30)" defer></script>
 * Renders in a shadow root of a <citeqa-widget id="citeqa-widget"> element; document text is only ever
 * inserted as text, never as HTML.
 *
 * Immunity to the host page's CSS: page rules cannot select anything inside the shadow root, and the
 * `!important` declarations on :host beat the page's `!important` ones (for important rules the inner,
 * shadow context wins the cascade), whatever their selector: `*`, `:is(*)`, `citeqa-widget`, `#citeqa-widget`.
 * What a child cannot undo is its ancestors: `opacity`, `filter`, `zoom`, `display:none` or `transform` on
 * <html> apply to the whole page and the widget with it. That is why the element is mounted on <html>, not
 * <body>: a `filter`, `transform` or `contain` on <body> would otherwise make <body>, not the viewport, the box
 * its fixed button is placed in. */
(function () {
  "use strict";
  var script = document.currentScript || document.querySelector('script[src*="widget.js"]');
  if (!script || script.getAttribute("data-citeqa-loaded")) return;
  script.setAttribute("data-citeqa-loaded", "1");

  var API = (script.getAttribute("data-api") || new URL(script.src, location.href).origin).replace(/\/+$/, "");
  var langAttr = (script.getAttribute("data-lang") || "auto").toLowerCase();
  var pageLang = (document.documentElement.lang || navigator.language || "en").toLowerCase();
  var LANG = langAttr === "zh" || langAttr === "en" ? langAttr : (pageLang.indexOf("zh") === 0 ? "zh" : "en");
  var MODE = (script.getAttribute("data-mode") || "").toLowerCase();
  // Silence, not the whole answer, is what means trouble: a generated answer on a CPU streams for minutes.
  var SILENCE_MS = (Number(script.getAttribute("data-timeout")) || 30) * 1000;
  var STORE_KEY = "citeqa:" + API;
  var MAX_INPUT_PX = 140;

  var T = {
    zh: {
      title: "文档问答", open: "打开问答助手", close: "关闭", reset: "新对话", send: "发送",
      placeholder: "输入问题，按 Enter 发送", input: "你的问题", log: "对话记录", you: "你", bot: "助手",
      thinking: "正在检索…", refused: "文档中没有找到答案", sources: "来源", back: "返回对话", passage: "引用段落",
      closest: "最接近的段落", unreachable: "无法连接服务器，请稍后重试。",
      blocked: "服务器拒绝了来自本网站的请求（跨域未获允许），重试也无济于事，请联系网站管理员。",
      slow: "服务器长时间没有响应，请稍后重试。", interrupted: "连接中断，回答不完整，请重试。", failed: "请求失败：",
      busy: "请等上一个回答完成后再发送，问题已保留在输入框中。",
      restored: "页面刷新前上一个问题还没有回答，已放回输入框，按 Enter 重新发送。",
      cite: "查看引用 ", empty: "可以问我关于这些文档的问题。",
      generative: "AI 撰写，每句均已与引用原文核对", extractive: "摘自文档原文", fallback: "（AI 回答未通过核对，改为引用原文）"
    },
    en: {
      title: "Ask the documents", open: "Open the assistant", close: "Close", reset: "New conversation", send: "Send",
      placeholder: "Ask a question, press Enter to send", input: "Your question", log: "Conversation", you: "You", bot: "Assistant",
      thinking: "Searching…", refused: "The documents do not answer this", sources: "Sources", back: "Back to the conversation",
      passage: "Cited passage", closest: "Closest passages", unreachable: "Cannot reach the server. Please try again later.",
      blocked: "The server refused requests from this website (cross-origin access not allowed). Retrying will not help; please tell the site owner.",
      slow: "The server stopped responding. Please try again.", interrupted: "The connection broke off; the answer is incomplete. Please try again.",
      failed: "Request failed: ", busy: "Please wait for the current answer before sending another question; yours is kept in the box.",
      restored: "Your last question was not answered before the page reloaded; it is back in the box. Press Enter to send it again.",
      cite: "Show source ", empty: "Ask me about these documents.",
      generative: "Written by AI; every sentence checked against its source", extractive: "Quoted from the documents",
      fallback: " (the AI answer could not be verified, so the documents are quoted)"
    }
  }[LANG];
  var TITLE = script.getAttribute("data-title") || T.title;

  var CSS = [
    // `all` leaves out direction and unicode-bidi, and an rtl page would turn `text-align:start` right.
    ":host{all:initial!important;display:contents!important;direction:ltr!important;unicode-bidi:isolate!important;zoom:1!important}",
    "*{box-sizing:border-box;font-family:system-ui,-apple-system,'Segoe UI','Noto Sans CJK SC','PingFang SC',sans-serif}",
    ".launcher,.panel{position:fixed;z-index:2147483647}",
    ".launcher{right:20px;bottom:20px;width:56px;height:56px;border-radius:50%;border:0;",
    "background:#1f4fd8;color:#fff;font-size:26px;cursor:pointer;box-shadow:0 4px 14px rgba(0,0,0,.25)}",
    ".launcher:focus-visible,button:focus-visible,textarea:focus-visible,summary:focus-visible{outline:3px solid #ffb000;outline-offset:2px}",
    ".panel{right:20px;bottom:88px;width:380px;max-width:calc(100vw - 16px);",
    "height:560px;max-height:calc(100vh - 110px);display:flex;flex-direction:column;background:#fff;color:#1b1b1b;",
    "border-radius:12px;box-shadow:0 8px 30px rgba(0,0,0,.3);overflow:hidden;font-size:14px;line-height:1.5;text-align:left}",
    ".panel[hidden]{display:none}",
    "header{display:flex;align-items:center;gap:6px;padding:10px 12px;background:#1f4fd8;color:#fff}",
    // A long title wraps rather than being cut off: it is the only thing saying whose assistant this is.
    "header h2{flex:1;min-width:0;margin:0;font-size:15px;font-weight:600;line-height:1.3;overflow-wrap:anywhere}",
    "header button{flex:none;white-space:nowrap;background:transparent;color:#fff;border:1px solid rgba(255,255,255,.5);border-radius:6px;padding:3px 8px;cursor:pointer;font-size:13px}",
    // The passage viewer covers this box exactly, so nothing of the conversation shows around it.
    ".body{position:relative;flex:1;min-height:0;display:flex;flex-direction:column}",
    ".log{flex:1;min-height:0;overflow-y:auto;overflow-x:hidden;padding:12px;display:flex;flex-direction:column;gap:10px}",
    ".msg{max-width:92%;padding:8px 10px;border-radius:10px;white-space:pre-wrap;overflow-wrap:anywhere;word-break:break-word}",
    ".user{align-self:flex-end;background:#e8eefc}",
    ".bot{align-self:flex-start;background:#f3f3f3}",
    ".bot.refused{background:#fff4e0;border:1px solid #f0c36d}",
    ".bot.error{background:#fde8e8;border:1px solid #e8a0a0}",
    ".note{display:block;font-size:12px;color:#8a5a00;margin-bottom:4px}",
    ".problem{display:block;color:#9b1c1c}",
    ".cited{white-space:nowrap}",
    ".cite{border:0;background:#1f4fd8;color:#fff;border-radius:4px;padding:0 5px;margin:0 1px;font-size:12px;cursor:pointer;vertical-align:baseline}",
    ".sources{margin:6px 0 0;padding:0;list-style:none;font-size:12px;color:#444;white-space:normal}",
    ".sources li{margin:2px 0}",
    ".sources button{background:none;border:0;color:#1f4fd8;cursor:pointer;text-align:left;padding:1px 0;font-size:12px;text-decoration:underline;overflow-wrap:anywhere}",
    ".sources .doc{display:block;color:#666;font-size:11px}",
    "details.closest{margin-top:6px;font-size:12px;white-space:normal}",
    "details.closest summary{cursor:pointer;color:#8a5a00}",
    ".empty{color:#666;font-size:13px}",
    ".mode{display:block;margin-top:6px;font-size:11px;color:#555}",
    ".notice{margin:0;padding:6px 10px;font-size:12px;background:#fff8d6;color:#5c4400;border-top:1px solid #eedc82}",
    ".notice[hidden]{display:none}",
    "form{display:flex;align-items:flex-end;gap:6px;padding:10px;border-top:1px solid #e4e4e4}",
    "textarea{flex:1;min-width:0;resize:none;height:42px;min-height:42px;max-height:" + MAX_INPUT_PX + "px;overflow-y:auto;",
    "padding:8px;border:1px solid #bbb;border-radius:8px;font-size:14px;line-height:1.4;color:#1b1b1b;background:#fff}",
    "form button{height:42px;border:0;border-radius:8px;background:#1f4fd8;color:#fff;padding:0 14px;cursor:pointer;font-size:14px}",
    "form button[aria-disabled=true]{background:#9aa9d6;cursor:wait}",
    ".viewer{position:absolute;inset:0;background:#fff;display:flex;flex-direction:column;padding:12px;gap:8px;overflow:auto}",
    ".viewer[hidden]{display:none}",
    ".viewer h3{margin:0;font-size:15px;overflow-wrap:anywhere}",
    ".viewer>button{align-self:flex-start;background:none;border:0;color:#1f4fd8;cursor:pointer;font-size:13px;padding:2px 0}",
    ".viewer .meta{font-size:12px;color:#555;overflow-wrap:anywhere}",
    ".viewer .text{white-space:pre-wrap;overflow-wrap:anywhere;border-left:3px solid #1f4fd8;padding-left:10px}",
    "mark{background:#ffe58a;color:inherit}",
    "@media (max-width:480px){.panel{right:8px;left:8px;bottom:80px;width:auto;max-width:none;height:calc(100vh - 96px);max-height:none}",
    ".launcher{right:12px;bottom:12px}}"
  ].join("");

  function el(tag, attrs, children) {
    var node = document.createElement(tag);
    for (var key in attrs || {}) {
      if (key === "text") node.textContent = attrs[key];
      else if (key.indexOf("on") === 0) node.addEventListener(key.slice(2), attrs[key]);
      else node.setAttribute(key, attrs[key]);
    }
    (children || []).forEach(function (c) { if (c) node.appendChild(typeof c === "string" ? document.createTextNode(c) : c); });
    return node;
  }

  // A custom element, not a <div>: page rules such as `body > div {filter: …}` do not even match it.
  var host = el("citeqa-widget", { id: "citeqa-widget" });
  var root = host.attachShadow({ mode: "open" });
  root.appendChild(el("style", { text: CSS }));

  var launcher = el("button", { class: "launcher", type: "button", "aria-label": T.open, "aria-expanded": "false", "aria-controls": "citeqa-panel", text: "?" });
  var log = el("div", { class: "log", role: "log", "aria-live": "polite", "aria-label": T.log, tabindex: "0" });
  var notice = el("p", { class: "notice", role: "status", hidden: "" });
  var input = el("textarea", { "aria-label": T.input, placeholder: T.placeholder, rows: "1", maxlength: "2000" });
  var sendBtn = el("button", { type: "submit", text: T.send, "aria-disabled": "false" });
  var form = el("form", {}, [input, sendBtn]);
  var viewer = el("section", { class: "viewer", hidden: "", "aria-label": T.passage, tabindex: "-1" });
  var resetBtn = el("button", { type: "button", text: T.reset, "aria-label": T.reset });
  var closeBtn = el("button", { type: "button", text: "✕", "aria-label": T.close });
  var panel = el("div", { class: "panel", id: "citeqa-panel", role: "dialog", "aria-label": TITLE, hidden: "" }, [
    el("header", {}, [el("h2", { text: TITLE }), resetBtn, closeBtn]),
    el("div", { class: "body" }, [log, notice, form, viewer])
  ]);
  root.appendChild(launcher);
  root.appendChild(panel);

  var state = load();
  var current = null;  // the request in flight: {controller, timer, bot, timedOut}
  var nodes = new WeakMap();  // message -> its element in the log, to update it in place

  function load() {
    try { return JSON.parse(sessionStorage.getItem(STORE_KEY)) || { messages: [] }; } catch (e) { return { messages: [] }; }
  }
  function save() {
    try { sessionStorage.setItem(STORE_KEY, JSON.stringify(state)); } catch (e) { /* storage full or blocked: keep in memory */ }
  }

  // A question still pending in storage was cut off by a reload: give it back rather than drop it. It stays
  // stored as the draft, so a second reload before it is sent does not lose it either.
  function restorePending() {
    var msgs = state.messages, last = msgs[msgs.length - 1];
    if (last && last.pending) {
      msgs.pop();
      if (msgs.length && msgs[msgs.length - 1].role === "user") { state.draft = msgs.pop().content; say(T.restored); }
      save();
    }
    input.value = state.draft || "";
  }

  function keepDraft() {
    if ((state.draft || "") !== input.value) { state.draft = input.value; save(); }
  }

  function say(text) { notice.textContent = text || ""; notice.hidden = !text; }

  function setBusy(busy) { sendBtn.setAttribute("aria-disabled", String(busy)); }

  function setOpen(open) {
    panel.hidden = !open;
    launcher.setAttribute("aria-expanded", String(open));
    if (open) { render(); fitInput(); input.focus(); } else { closeViewer(); launcher.focus(); }
  }

  // The textarea grows with its text up to MAX_INPUT_PX, then scrolls.
  function fitInput() {
    input.style.height = "auto";
    input.style.height = Math.min(input.scrollHeight + 2, MAX_INPUT_PX) + "px";
  }

  var PUNCT = "。．.,，、；;：:！!？?)）」』”’\"'";
  var MARKERS = new RegExp("((?:\\[\\d+\\]\\s*)*\\[\\d+\\])([" + PUNCT.replace(/[\].\\]/g, "\\$&") + "]*)", "g");

  // The answer text with each [n] as a button that opens that citation. A marker and the punctuation after
  // it share a no-wrap span, so a full stop never starts a line of its own.
  function answerNodes(text, citations) {
    var frag = document.createDocumentFragment(), last = 0, m;
    MARKERS.lastIndex = 0;
    while ((m = MARKERS.exec(text))) {
      if (m.index > last) frag.appendChild(document.createTextNode(text.slice(last, m.index)));
      var group = el("span", { class: "cited" });
      m[1].split(/(\[\d+\])/).forEach(function (part) {
        var n = /^\[(\d+)\]$/.exec(part);
        var c = n && (citations || []).filter(function (x) { return x.n === Number(n[1]); })[0];
        if (c) group.appendChild(el("button", { class: "cite", type: "button", "aria-label": T.cite + c.n, text: String(c.n), onclick: openViewer.bind(null, c) }));
        else if (part) group.appendChild(document.createTextNode(part));
      });
      if (m[2]) group.appendChild(document.createTextNode(m[2]));
      frag.appendChild(group);
      last = MARKERS.lastIndex;
    }
    if (last < text.length) frag.appendChild(document.createTextNode(text.slice(last)));
    return frag;
  }

  // What tells passages of one document apart: the sentence quoted from each, else its first words.
  function snippet(c) {
    var h = (c.highlights || [])[0], text = c.text || "";
    if (h && h.start >= c.start && h.end <= c.end) text = text.slice(h.start - c.start, h.end - c.start);
    text = text.replace(/\s+/g, " ").trim();
    return text.length > 70 ? text.slice(0, 68) + "…" : text;
  }

  function sourceList(citations, label) {
    var list = el("ol", { class: "sources", "aria-label": label }), previous = null;
    citations.forEach(function (c) {
      // The title once per run of passages from the same document, not repeated on every line.
      var doc = c.title !== previous ? el("span", { class: "doc", text: c.title }) : null;
      previous = c.title;
      list.appendChild(el("li", {}, [doc, el("button", { type: "button", text: "[" + c.n + "] " + snippet(c), onclick: openViewer.bind(null, c) })]));
    });
    return list;
  }

  function fillMessage(node, msg) {
    node.textContent = "";
    if (msg.role === "user") {
      node.className = "msg user"; node.setAttribute("aria-label", T.you); node.textContent = msg.content;
      return node;
    }
    var refused = msg.answerable === false && !msg.error;
    node.className = "msg bot" + (msg.error ? " error" : refused ? " refused" : "");
    // Screen readers wait for the finished answer instead of reading every streamed piece.
    if (msg.pending) node.setAttribute("aria-busy", "true"); else node.removeAttribute("aria-busy");
    if (refused) node.appendChild(el("span", { class: "note", text: T.refused }));
    if (msg.pending && !msg.content) node.appendChild(document.createTextNode(T.thinking));
    node.appendChild(answerNodes(msg.content || "", msg.citations));
    if (typeof msg.error === "string") node.appendChild(el("span", { class: "problem", text: msg.error }));
    var cites = msg.citations || [];
    if (msg.answerable && cites.length && !msg.pending) node.appendChild(sourceList(cites, T.sources));
    if (refused && cites.length) {
      // The API still returns the nearest passages of a refusal: the reader can check the refusal against them.
      node.appendChild(el("details", { class: "closest" }, [el("summary", { text: T.closest + " (" + cites.length + ")" }), sourceList(cites, T.closest)]));
    }
    if (msg.mode && msg.answerable && !msg.pending) {
      var said = msg.mode === "generative" ? T.generative : T.extractive;
      if (msg.fallback && msg.fallback !== "not_answerable" && msg.fallback !== "llm_not_configured") said += T.fallback;
      node.appendChild(el("span", { class: "mode", "data-mode": msg.mode, text: said }));
    }
    return node;
  }

  function scrollDown() { log.scrollTop = log.scrollHeight; }

  // The whole log is rebuilt only when the panel opens or the conversation is reset; a question adds its
  // two messages and the answer updates in place, so the live region announces only what is new.
  function render() {
    log.textContent = "";
    if (!state.messages.length) log.appendChild(el("p", { class: "empty", text: T.empty }));
    state.messages.forEach(append);
    scrollDown();
  }

  function append(msg) {
    var empty = log.querySelector(".empty");
    if (empty) log.removeChild(empty);
    var node = fillMessage(el("div"), msg);
    nodes.set(msg, node);
    log.appendChild(node);
    scrollDown();
  }

  // Each streamed event rebuilds the bubble's buttons; a reader who tabbed to one (a citation, a source) while
  // the answer streams keeps focus on the button in the same place instead of being dropped to the page.
  function update(msg) {
    var node = nodes.get(msg);
    if (!node || node.parentNode !== log) return;
    var buttons = node.getElementsByTagName("button");
    var focused = Array.prototype.indexOf.call(buttons, root.activeElement);
    fillMessage(node, msg);
    if (focused >= 0) (buttons[focused] || node.querySelector("button") || log).focus();
    scrollDown();
  }

  function openViewer(c) {
    viewer.textContent = "";
    var text = el("div", { class: "text" });
    // Highlight the quoted sentences; offsets are document offsets, the passage starts at c.start.
    var spans = (c.highlights || []).map(function (h) { return [h.start - c.start, h.end - c.start]; })
      .filter(function (s) { return s[0] >= 0 && s[1] <= c.text.length && s[0] < s[1]; }).sort(function (a, b) { return a[0] - b[0]; });
    var pos = 0;
    spans.forEach(function (s) {
      if (s[0] < pos) return;
      text.appendChild(document.createTextNode(c.text.slice(pos, s[0])));
      text.appendChild(el("mark", { text: c.text.slice(s[0], s[1]) }));
      pos = s[1];
    });
    text.appendChild(document.createTextNode(c.text.slice(pos)));
    var back = el("button", { type: "button", text: "← " + T.back, onclick: closeViewer });
    viewer.appendChild(back);
    viewer.appendChild(el("h3", { text: "[" + c.n + "] " + c.title }));
    viewer.appendChild(el("div", { class: "meta", text: c.source + " · " + c.chunk_id + " · " + c.start + "–" + c.end }));
    viewer.appendChild(text);
    viewer.hidden = false;
    back.focus();
  }

  function closeViewer() {
    if (!viewer.hidden) { viewer.hidden = true; input.focus(); }
  }

  // Earlier turns for follow-up questions: only questions that got an answer, never a failed one.
  function history() {
    var turns = [], msgs = state.messages;
    for (var i = 0; i + 1 < msgs.length; i++) {
      var question = msgs[i], answer = msgs[i + 1];
      if (question.role !== "user" || answer.role !== "assistant") continue;
      if (answer.error || answer.pending || !answer.content) continue;
      turns.push({ role: "user", content: question.content }, { role: "assistant", content: answer.content });
    }
    return turns.slice(-20);
  }

  function ask(question) {
    var past = history();
    var user = { role: "user", content: question };
    var bot = { role: "assistant", content: "", citations: [], pending: true };
    state.messages.push(user, bot);
    save();  // with the answer pending, so a reload can give the question back
    append(user); append(bot);
    setBusy(true); say("");

    var req = { controller: new AbortController(), timer: null, bot: bot, timedOut: false };
    current = req;
    var touch = function () {
      clearTimeout(req.timer);
      req.timer = setTimeout(function () { req.timedOut = true; req.controller.abort(); }, SILENCE_MS);
    };
    touch();
    var answered = false;
    fetch(API + "/v1/ask", {
      method: "POST", signal: req.controller.signal,
      headers: { "Content-Type": "application/json", "Accept": "text/event-stream" },
      body: JSON.stringify(MODE ? { question: question, history: past, stream: true, mode: MODE }
                                : { question: question, history: past, stream: true })
    }).then(function (res) {
      answered = true;
      touch();
      if (!res.ok) {
        return res.json().catch(function () { return {}; }).then(function (body) {
          throw new Error(T.failed + ((body.error && body.error.message) || res.status));
        });
      }
      return readStream(res.body.getReader(), bot, touch, function () { if (req === current) update(bot); });
    }).then(function (complete) {
      if (!complete) throw new Error(T.interrupted);
    }).catch(function (err) {
      if (req !== current) return;  // reset while pending: that conversation is gone
      if (req.timedOut) return T.slow;
      // fetch rejects alike when the server is down and when the browser withholds a reply: find out which.
      if (!answered && err instanceof TypeError) return diagnose();
      return answered && err instanceof TypeError ? T.interrupted : String(err.message || err);
    }).then(function (problem) {
      clearTimeout(req.timer);
      if (req !== current) return;
      current = null;
      if (problem) bot.error = problem;
      bot.pending = false;
      setBusy(false); save(); update(bot);
    });
  }

  // An opaque `no-cors` request succeeds whenever the server answers at all, so success here means the server
  // is up and the browser blocked the reply because of the server's CORS settings.
  function diagnose() {
    var probe = new AbortController(), timer = setTimeout(function () { probe.abort(); }, SILENCE_MS);
    return fetch(API + "/healthz", { mode: "no-cors", cache: "no-store", signal: probe.signal }).then(function () {
      if (window.console && console.warn) {
        console.warn("citeqa: the server at " + API + " is up but does not allow requests from " + location.origin +
          ". Add this origin to CITEQA_CORS_ORIGINS on the server (comma-separated list).");
      }
      return T.blocked;
    }, function () { return T.unreachable; }).then(function (problem) { clearTimeout(timer); return problem; });
  }

  // Resolves true once the `done` event arrived; false when the stream ended without it.
  function readStream(reader, bot, touch, changed) {
    var decoder = new TextDecoder(), buffer = "", done = false;
    function handle(block) {
      var event = "message", data = "";
      block.split("\n").forEach(function (line) {
        if (line.indexOf("event:") === 0) event = line.slice(6).trim();
        else if (line.indexOf("data:") === 0) data += line.slice(5).trim();
      });
      if (!data) return;
      var payload = JSON.parse(data);
      if (event === "citations") bot.citations = payload;
      else if (event === "delta") { bot.content += payload.text; changed(); }
      else if (event === "done") {
        bot.content = payload.answer; bot.citations = payload.citations; bot.answerable = payload.answerable;
        bot.mode = payload.mode; bot.fallback = payload.fallback; done = true;
      }
    }
    function pump() {
      return reader.read().then(function (r) {
        touch();
        if (r.done) { if (buffer.trim()) handle(buffer); return done; }
        buffer += decoder.decode(r.value, { stream: true }).replace(/\r\n/g, "\n");
        var parts = buffer.split("\n\n");
        buffer = parts.pop();
        parts.forEach(handle);
        return pump();
      });
    }
    return pump();
  }

  function reset() {
    // Cancel the pending answer: Send works again at once and the old answer cannot land in the new conversation.
    if (current) { clearTimeout(current.timer); current.controller.abort(); current = null; }
    state = { messages: [], draft: input.value }; save();
    setBusy(false); say(""); closeViewer(); render(); input.focus();
  }

  function submit() {
    var question = input.value;
    if (!question.trim()) return;
    if (current) { say(T.busy); return; }  // refuse visibly, keeping the text, rather than drop it
    input.value = ""; fitInput();
    state.draft = "";
    ask(question);
  }

  launcher.addEventListener("click", function () { setOpen(panel.hidden); });
  closeBtn.addEventListener("click", function () { setOpen(false); });
  resetBtn.addEventListener("click", reset);
  form.addEventListener("submit", function (e) { e.preventDefault(); submit(); });
  input.addEventListener("input", fitInput);
  input.addEventListener("input", keepDraft);
  input.addEventListener("keydown", function (e) {
    // The Enter that confirms an input-method candidate is not a send: Chromium says isComposing, Safari
    // only reports keyCode 229.
    if (e.key !== "Enter" || e.shiftKey || e.isComposing || e.keyCode === 229) return;
    e.preventDefault();
    submit();
  });
  root.addEventListener("keydown", function (e) {
    if (e.key === "Escape") { if (!viewer.hidden) closeViewer(); else if (!panel.hidden) setOpen(false); }
  });

  restorePending();
  // On <html>, after <body>: see the header comment.
  function mount() { document.documentElement.appendChild(host); }
  if (document.body) mount(); else document.addEventListener("DOMContentLoaded", mount);
})();
