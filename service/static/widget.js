/*! citeqa chat widget: one file, no dependencies.
 * <script src="https://host/widget.js" data-api="https://host" data-title="..." data-lang="zh|en|auto"
 *         data-mode="extractive|generative|auto (default: the server's setting)" defer></script>
 * Renders in a shadow root; document text is only ever inserted as text, never as HTML. */
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
  // A written answer may take the LLM's whole budget (CITEQA_LLM_TIMEOUT_SECONDS, 30 s) before it falls back.
  var TIMEOUT_MS = 60000;
  var STORE_KEY = "citeqa:" + API;

  var T = {
    zh: {
      title: "文档问答", open: "打开问答助手", close: "关闭", reset: "新对话", send: "发送",
      placeholder: "输入问题，按 Enter 发送", input: "你的问题", log: "对话记录", you: "你", bot: "助手",
      thinking: "正在检索…", refused: "文档中没有找到答案", sources: "来源", back: "返回对话", passage: "引用段落",
      unreachable: "无法连接服务器，请稍后重试。", slow: "服务器响应超时，请稍后重试。", failed: "请求失败：",
      cite: "查看引用 ", empty: "可以问我关于这些文档的问题。",
      generative: "AI 撰写，每句均已与引用原文核对", extractive: "摘自文档原文", fallback: "（AI 回答未通过核对，改为引用原文）"
    },
    en: {
      title: "Ask the documents", open: "Open the assistant", close: "Close", reset: "New conversation", send: "Send",
      placeholder: "Ask a question, press Enter to send", input: "Your question", log: "Conversation", you: "You", bot: "Assistant",
      thinking: "Searching…", refused: "The documents do not answer this", sources: "Sources", back: "Back to the conversation",
      passage: "Cited passage", unreachable: "Cannot reach the server. Please try again later.",
      slow: "The server is taking too long. Please try again.", failed: "Request failed: ", cite: "Show source ",
      empty: "Ask me about these documents.",
      generative: "Written by AI; every sentence checked against its source", extractive: "Quoted from the documents",
      fallback: " (the AI answer could not be verified, so the documents are quoted)"
    }
  }[LANG];
  var TITLE = script.getAttribute("data-title") || T.title;

  var CSS = [
    ":host{all:initial}",
    "*{box-sizing:border-box;font-family:system-ui,-apple-system,'Segoe UI','Noto Sans CJK SC','PingFang SC',sans-serif}",
    ".launcher{position:fixed;right:20px;bottom:20px;z-index:2147483000;width:56px;height:56px;border-radius:50%;border:0;",
    "background:#1f4fd8;color:#fff;font-size:26px;cursor:pointer;box-shadow:0 4px 14px rgba(0,0,0,.25)}",
    ".launcher:focus-visible,button:focus-visible,textarea:focus-visible{outline:3px solid #ffb000;outline-offset:2px}",
    ".panel{position:fixed;right:20px;bottom:88px;z-index:2147483000;width:380px;max-width:calc(100vw - 16px);",
    "height:560px;max-height:calc(100vh - 110px);display:flex;flex-direction:column;background:#fff;color:#1b1b1b;",
    "border-radius:12px;box-shadow:0 8px 30px rgba(0,0,0,.3);overflow:hidden;font-size:14px;line-height:1.5}",
    ".panel[hidden]{display:none}",
    "header{display:flex;align-items:center;gap:6px;padding:10px 12px;background:#1f4fd8;color:#fff}",
    "header h2{flex:1;margin:0;font-size:15px;font-weight:600;overflow:hidden;text-overflow:ellipsis;white-space:nowrap}",
    "header button{background:transparent;color:#fff;border:1px solid rgba(255,255,255,.5);border-radius:6px;padding:3px 8px;cursor:pointer;font-size:13px}",
    ".log{flex:1;overflow-y:auto;overflow-x:hidden;padding:12px;display:flex;flex-direction:column;gap:10px}",
    ".msg{max-width:92%;padding:8px 10px;border-radius:10px;white-space:pre-wrap;overflow-wrap:anywhere;word-break:break-word}",
    ".user{align-self:flex-end;background:#e8eefc}",
    ".bot{align-self:flex-start;background:#f3f3f3}",
    ".bot.refused{background:#fff4e0;border:1px solid #f0c36d}",
    ".bot.error{background:#fde8e8;border:1px solid #e8a0a0}",
    ".note{display:block;font-size:12px;color:#8a5a00;margin-bottom:4px}",
    ".cite{border:0;background:#1f4fd8;color:#fff;border-radius:4px;padding:0 5px;margin:0 1px;font-size:12px;cursor:pointer;vertical-align:baseline}",
    ".sources{margin:6px 0 0;padding:0;list-style:none;font-size:12px;color:#444}",
    ".sources button{background:none;border:0;color:#1f4fd8;cursor:pointer;text-align:left;padding:1px 0;font-size:12px;text-decoration:underline;overflow-wrap:anywhere}",
    ".empty{color:#666;font-size:13px}",
    ".mode{display:block;margin-top:6px;font-size:11px;color:#555}",
    "form{display:flex;gap:6px;padding:10px;border-top:1px solid #e4e4e4}",
    "textarea{flex:1;min-width:0;resize:none;height:42px;padding:8px;border:1px solid #bbb;border-radius:8px;font-size:14px}",
    "form button{border:0;border-radius:8px;background:#1f4fd8;color:#fff;padding:0 14px;cursor:pointer;font-size:14px}",
    "form button:disabled{background:#9aa9d6;cursor:wait}",
    ".viewer{position:absolute;inset:49px 0 0 0;background:#fff;display:flex;flex-direction:column;padding:12px;gap:8px;overflow:auto}",
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

  var host = el("div", { id: "citeqa-widget" });
  var root = host.attachShadow({ mode: "open" });
  root.appendChild(el("style", { text: CSS }));

  var launcher = el("button", { class: "launcher", type: "button", "aria-label": T.open, "aria-expanded": "false", "aria-controls": "citeqa-panel", text: "?" });
  var log = el("div", { class: "log", role: "log", "aria-live": "polite", "aria-label": T.log, tabindex: "0" });
  var input = el("textarea", { "aria-label": T.input, placeholder: T.placeholder, rows: "1", maxlength: "2000" });
  var sendBtn = el("button", { type: "submit", text: T.send });
  var form = el("form", {}, [input, sendBtn]);
  var viewer = el("section", { class: "viewer", hidden: "", "aria-label": T.passage, tabindex: "-1" });
  var resetBtn = el("button", { type: "button", text: T.reset, "aria-label": T.reset });
  var closeBtn = el("button", { type: "button", text: "✕", "aria-label": T.close });
  var panel = el("div", { class: "panel", id: "citeqa-panel", role: "dialog", "aria-label": TITLE, hidden: "" }, [
    el("header", {}, [el("h2", { text: TITLE }), resetBtn, closeBtn]), log, form, viewer
  ]);
  root.appendChild(launcher);
  root.appendChild(panel);

  var state = load();
  var busy = false;

  function load() {
    try { return JSON.parse(sessionStorage.getItem(STORE_KEY)) || { messages: [] }; } catch (e) { return { messages: [] }; }
  }
  function save() {
    try { sessionStorage.setItem(STORE_KEY, JSON.stringify(state)); } catch (e) { /* storage full or blocked: keep in memory */ }
  }

  function setOpen(open) {
    panel.hidden = !open;
    launcher.setAttribute("aria-expanded", String(open));
    if (open) { render(); input.focus(); } else { closeViewer(); launcher.focus(); }
  }

  // The answer text with each [n] as a button that opens that citation.
  function answerNodes(text, citations) {
    var frag = document.createDocumentFragment();
    var re = /\[(\d+)\]/g, last = 0, m;
    while ((m = re.exec(text))) {
      if (m.index > last) frag.appendChild(document.createTextNode(text.slice(last, m.index)));
      var n = Number(m[1]);
      var c = (citations || []).filter(function (x) { return x.n === n; })[0];
      if (c) frag.appendChild(el("button", { class: "cite", type: "button", "aria-label": T.cite + n, text: String(n), onclick: openViewer.bind(null, c) }));
      else frag.appendChild(document.createTextNode(m[0]));
      last = re.lastIndex;
    }
    if (last < text.length) frag.appendChild(document.createTextNode(text.slice(last)));
    return frag;
  }

  function messageNode(msg) {
    if (msg.role === "user") return el("div", { class: "msg user", "aria-label": T.you, text: msg.content });
    var cls = "msg bot" + (msg.error ? " error" : msg.answerable === false ? " refused" : "");
    var node = el("div", { class: cls });
    if (msg.answerable === false && !msg.error) node.appendChild(el("span", { class: "note", text: T.refused }));
    if (msg.pending && !msg.content) node.appendChild(document.createTextNode(T.thinking));
    node.appendChild(answerNodes(msg.content || "", msg.citations));
    if (msg.answerable && msg.citations && msg.citations.length && !msg.pending) {
      var list = el("ol", { class: "sources", "aria-label": T.sources });
      msg.citations.forEach(function (c) {
        list.appendChild(el("li", {}, [el("button", { type: "button", text: "[" + c.n + "] " + c.title, onclick: openViewer.bind(null, c) })]));
      });
      node.appendChild(list);
    }
    if (msg.mode && msg.answerable && !msg.pending) {
      var said = msg.mode === "generative" ? T.generative : T.extractive;
      if (msg.fallback && msg.fallback !== "not_answerable" && msg.fallback !== "llm_not_configured") said += T.fallback;
      node.appendChild(el("span", { class: "mode", "data-mode": msg.mode, text: said }));
    }
    return node;
  }

  function render() {
    log.textContent = "";
    if (!state.messages.length) log.appendChild(el("p", { class: "empty", text: T.empty }));
    state.messages.forEach(function (m) { log.appendChild(messageNode(m)); });
    log.scrollTop = log.scrollHeight;
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

  function history() {
    return state.messages.filter(function (m) { return !m.error && !m.pending && m.content; }).slice(-20)
      .map(function (m) { return { role: m.role, content: m.content }; });
  }

  function ask(question) {
    if (busy || !question.trim()) return;
    busy = true; sendBtn.disabled = true;
    var past = history();
    state.messages.push({ role: "user", content: question });
    var bot = { role: "assistant", content: "", citations: [], pending: true };
    state.messages.push(bot);
    render();

    var controller = new AbortController();
    var timer = setTimeout(function () { controller.abort(); }, TIMEOUT_MS);
    fetch(API + "/v1/ask", {
      method: "POST", signal: controller.signal,
      headers: { "Content-Type": "application/json", "Accept": "text/event-stream" },
      body: JSON.stringify(MODE ? { question: question, history: past, stream: true, mode: MODE }
                                : { question: question, history: past, stream: true })
    }).then(function (res) {
      if (!res.ok) {
        return res.json().catch(function () { return {}; }).then(function (body) {
          throw new Error(T.failed + ((body.error && body.error.message) || res.status));
        });
      }
      return readStream(res.body.getReader(), bot);
    }).catch(function (err) {
      bot.error = true;
      bot.content = err.name === "AbortError" ? T.slow : (err instanceof TypeError ? T.unreachable : String(err.message || err));
    }).then(function () {
      clearTimeout(timer);
      bot.pending = false; busy = false; sendBtn.disabled = false;
      save(); render();
    });
  }

  function readStream(reader, bot) {
    var decoder = new TextDecoder(), buffer = "";
    function handle(block) {
      var event = "message", data = "";
      block.split("\n").forEach(function (line) {
        if (line.indexOf("event:") === 0) event = line.slice(6).trim();
        else if (line.indexOf("data:") === 0) data += line.slice(5).trim();
      });
      if (!data) return;
      var payload = JSON.parse(data);
      if (event === "citations") bot.citations = payload;
      else if (event === "delta") { bot.content += payload.text; render(); }
      else if (event === "done") {
        bot.content = payload.answer; bot.citations = payload.citations; bot.answerable = payload.answerable;
        bot.mode = payload.mode; bot.fallback = payload.fallback;
      }
    }
    function pump() {
      return reader.read().then(function (r) {
        if (r.done) { if (buffer.trim()) handle(buffer); return; }
        buffer += decoder.decode(r.value, { stream: true });
        var parts = buffer.split("\n\n");
        buffer = parts.pop();
        parts.forEach(handle);
        return pump();
      });
    }
    return pump();
  }

  launcher.addEventListener("click", function () { setOpen(panel.hidden); });
  closeBtn.addEventListener("click", function () { setOpen(false); });
  resetBtn.addEventListener("click", function () { state = { messages: [] }; save(); closeViewer(); render(); input.focus(); });
  form.addEventListener("submit", function (e) { e.preventDefault(); var q = input.value; input.value = ""; ask(q); });
  input.addEventListener("keydown", function (e) {
    if (e.key === "Enter" && !e.shiftKey && !e.isComposing) { e.preventDefault(); form.requestSubmit ? form.requestSubmit() : form.dispatchEvent(new Event("submit")); }
  });
  root.addEventListener("keydown", function (e) {
    if (e.key === "Escape") { if (!viewer.hidden) closeViewer(); else if (!panel.hidden) setOpen(false); }
  });

  function mount() { document.body.appendChild(host); }
  if (document.body) mount(); else document.addEventListener("DOMContentLoaded", mount);
})();
