// The sandbox page: Telegram users and SMS phones talking to the real service
// through its emulators, and the live results of the survey being answered.
// Message texts come from people: they only ever go into textContent.

const config = JSON.parse(document.getElementById("sandbox-config").textContent);
const lang = config.language;

// Words not yet in PAGE_TEXTS (outreach/sandbox/api.py): used only until the
// server sends them, then this object can go.

const numbers = new Intl.NumberFormat(lang, { maximumFractionDigits: 1 });
const percents = new Intl.NumberFormat(lang, { style: "percent", maximumFractionDigits: 1 });

function t(key, values = {}) {
  const template = config.texts[key] ?? key;
  return template.replace(/\{(\w+)\}/g, (whole, name) => (name in values ? String(values[name]) : whole));
}

/** A DOM element: attributes, `text` for textContent, `on…` for listeners. */
function h(tag, props = {}, ...children) {
  const node = document.createElement(tag);
  for (const [key, value] of Object.entries(props)) {
    if (value === null || value === undefined || value === false) continue;
    if (key === "text") node.textContent = value;
    else if (key.startsWith("on")) node.addEventListener(key.slice(2), value);
    else node.setAttribute(key, value === true ? "" : value);
  }
  node.append(...children.filter((child) => child !== null && child !== undefined));
  return node;
}

async function api(path, body) {
  const init = body === undefined ? {} : {
    method: "POST",
    headers: { "Content-Type": "application/json" },
    body: JSON.stringify(body),
  };
  const response = await fetch(`/sandbox/api/${path}`, init);
  const raw = await response.text();
  let data = null;
  try { data = JSON.parse(raw); } catch { /* a plain-text error */ }
  if (!response.ok) throw new Error(data?.error ?? (raw.trim() || `${response.status} ${response.statusText}`));
  return data;
}

const randomDigits = (count) => Array.from({ length: count }, () => Math.floor(Math.random() * 10)).join("");
const randomTelegramId = () => String(1 + Math.floor(Math.random() * 9)) + randomDigits(8);
const randomMobile = () => `+994${["50", "55", "70"][Math.floor(Math.random() * 3)]}${randomDigits(7)}`;

/** Calls `task` every `interval` ms, one call at a time, only while the tab is visible. */
class Poller {
  static all = new Set();

  constructor(task, interval) {
    this.task = task;
    this.interval = interval;
    this.timer = null;
    this.running = false;
  }

  start() {
    this.running = true;
    Poller.all.add(this);
    if (!document.hidden) this.tick();
  }

  stop() {
    this.running = false;
    Poller.all.delete(this);
    clearTimeout(this.timer);
  }

  pause() { clearTimeout(this.timer); }

  async tick() {
    clearTimeout(this.timer);
    try { await this.task(); } catch { /* shown by the task; try again later */ }
    if (this.running && !document.hidden) {
      clearTimeout(this.timer);
      this.timer = setTimeout(() => this.tick(), this.interval);
    }
  }
}

document.addEventListener("visibilitychange", () => {
  for (const poller of Poller.all) {
    if (document.hidden) poller.pause();
    else poller.tick();
  }
});

// ------------------------------------------------------------------ chats

let panelCount = 0;

class Chat {
  constructor(kind, id) {
    this.kind = kind;
    this.id = id;
    this.nodes = new Map(); // message key -> element
    this.sequence = 0; // requests started
    this.shown = 0; // newest request rendered: an older answer never overwrites a newer one
    this.busy = 0;
    const n = ++panelCount;
    const ids = { title: `chat-${n}-title`, input: `chat-${n}-input`, close: `chat-${n}-close` };
    const telegram = kind === "telegram";
    this.hint = telegram ? "/start" : "JOIN";

    this.log = h("div", {
      class: "messages", role: "log", "aria-live": "polite", "aria-labelledby": ids.title, tabindex: "0",
    });
    this.input = h("input", {
      id: ids.input, type: "text", autocomplete: "off", enterkeyhint: "send",
      placeholder: this.hint, maxlength: telegram ? "4096" : "1600",
    });
    this.share = h("button", { type: "button", class: "share", hidden: true, text: t("share_phone"),
      onclick: () => this.sharePhone() });
    this.status = h("p", { class: "chat__error", role: "alert" });
    this.root = h("section", { class: `chat chat--${kind}`, "aria-labelledby": ids.title, "data-chat": id },
      h("div", { class: "chat__head" },
        h("h2", { id: ids.title, text: telegram ? t("telegram_user", { id }) : t("sms_phone", { number: id }) }),
        h("button", { type: "button", id: ids.close, class: "close", text: t("remove"),
          "aria-labelledby": `${ids.close} ${ids.title}`, onclick: () => closeChat(this) })),
      this.log,
      this.status,
      h("form", { class: "composer", onsubmit: (event) => { event.preventDefault(); this.submit(); } },
        h("label", { for: ids.input, text: t("message") }),
        h("div", { class: "composer__row" }, this.input, h("button", { type: "submit", text: t("send") })),
        this.share));
    this.poller = new Poller(() => this.refresh(), telegram ? 2000 : 700);
  }

  get path() {
    return this.kind === "telegram" ? `telegram/${this.id}` : `sms/${encodeURIComponent(this.id)}`;
  }

  async request(action, body) {
    const sequence = ++this.sequence;
    const query = this.kind === "telegram" ? `?lang=${encodeURIComponent(lang)}` : "";
    this.busy += 1;
    if (action) this.log.setAttribute("aria-busy", "true"); // an answer is on its way
    try {
      const data = await api(`${this.path}${action}${query}`, body);
      if (sequence > this.shown) {
        this.shown = sequence;
        this.render(data);
      }
      this.showError("");
      return data;
    } catch (error) {
      this.showError(error.message);
      throw error;
    } finally {
      this.busy -= 1;
      if (!this.busy) this.log.removeAttribute("aria-busy");
    }
  }

  showError(message) {
    if (this.status.textContent !== message) this.status.textContent = message; // announced once
  }

  refresh() {
    return this.busy ? Promise.resolve() : this.request("");
  }

  async submit() {
    const text = this.input.value.trim();
    if (!text) return;
    this.input.value = "";
    this.input.focus();
    try {
      await this.request("/send", { text });
      if (this.kind === "sms") this.poller.tick(); // the answer comes a moment later
    } catch {
      if (!this.input.value) this.input.value = text; // give it back to try again
    }
  }

  async press(button, messageId) {
    try {
      await this.request("/press", { data: button.dataset.data, message_id: messageId });
    } catch {
      return;
    }
    // A toggle keeps its button; an answered question loses its buttons, and with them
    // the focus: then go on to the next question's buttons, or to the input.
    if (button.isConnected || (document.activeElement && document.activeElement !== document.body)) return;
    const last = [...this.nodes.values()].at(-1);
    const next = last?.querySelector(".keyboard button");
    (next ?? this.input).focus();
  }

  async sharePhone() {
    const phone = window.prompt(t("share_phone"), randomMobile());
    if (phone?.trim()) await this.request("/contact", { phone: phone.trim() }).catch(() => {});
    this.input.focus();
  }

  render(data) {
    const nearBottom = this.log.scrollHeight - this.log.scrollTop - this.log.clientHeight < 48;
    let added = false;
    const keys = new Set();
    data.messages.forEach((message, index) => {
      const key = this.kind === "telegram" ? message.id : index;
      keys.add(key);
      const signature = JSON.stringify(message);
      let node = this.nodes.get(key);
      if (!node) {
        node = h("div", { class: `message message--${message.from}` });
        this.nodes.set(key, node);
        this.log.append(node);
        added = true;
      } else if (node.dataset.signature === signature) {
        return;
      }
      node.dataset.signature = signature;
      this.fill(node, message);
    });
    for (const [key, node] of this.nodes) {
      if (!keys.has(key)) { node.remove(); this.nodes.delete(key); }
    }
    this.input.placeholder = data.messages.length ? "" : this.hint; // how to begin, until begun
    if (this.kind === "telegram") this.share.hidden = !data.asks_contact;
    if (added && (nearBottom || data.messages.at(-1)?.from === "me")) {
      this.log.scrollTop = this.log.scrollHeight;
    }
  }

  fill(node, message) {
    const mine = message.from === "me";
    node.className = `message message--${message.from}`;
    if (!node.firstChild) node.append(h("span", { class: "visually-hidden" }), h("p", { class: "message__text" }));
    node.children[0].textContent = `${t(mine ? "you" : "bot")}: `;
    node.children[1].textContent = message.text;
    if (this.kind === "telegram") this.fillKeyboard(node, message);
    else if (mine) node.querySelector(".message__meta")?.remove();
    else this.fillCost(node, message);
  }

  fillKeyboard(node, message) {
    const rows = message.buttons ?? [];
    let keyboard = node.querySelector(".keyboard");
    const shape = rows.map((row) => row.length).join(",");
    if (keyboard && keyboard.dataset.shape !== shape) { keyboard.remove(); keyboard = null; }
    if (!rows.length) return;
    if (!keyboard) {
      // Build the rows once; later edits (a multiple-choice toggle) only relabel them, so focus stays.
      keyboard = h("div", { class: "keyboard", "data-shape": shape },
        ...rows.map((row) => h("div", { class: "keyboard__row" },
          ...row.map(() => {
            const button = h("button", { type: "button" });
            button.addEventListener("click", () => this.press(button, message.id));
            return button;
          }))));
      node.append(keyboard);
    }
    const buttons = keyboard.querySelectorAll("button");
    rows.flat().forEach((spec, index) => {
      buttons[index].textContent = spec.text;
      buttons[index].dataset.data = spec.data;
    });
  }

  fillCost(node, message) {
    let line = node.querySelector(".message__meta");
    if (!line) {
      line = h("p", { class: "message__meta" });
      node.append(line);
    }
    const parts = [];
    if (message.segments) parts.push(t("sms_cost", { segments: numbers.format(message.segments), encoding: message.encoding }));
    if (message.status) parts.push(config.texts[`status_${message.status}`] ?? message.status);
    line.textContent = parts.join(" · ");
    line.classList.toggle("message__meta--failed", ["failed", "undelivered"].includes(message.status));
  }
}

const chats = new Map();
const grid = document.getElementById("chats");
const STORAGE_KEY = "sdg-outreach-sandbox-chats";

function saveChats() {
  const list = [...chats.values()].map(({ kind, id }) => ({ kind, id }));
  try { sessionStorage.setItem(STORAGE_KEY, JSON.stringify(list)); } catch { /* private mode */ }
}

function openChat(kind, id, { focus = true } = {}) {
  const key = `${kind}:${id}`;
  if (chats.has(key)) return chats.get(key);
  const chat = new Chat(kind, id);
  chats.set(key, chat);
  grid.append(chat.root);
  saveChats();
  chat.poller.start();
  if (focus) chat.input.focus();
  return chat;
}

function addChat(kind) {
  let id;
  do { id = kind === "telegram" ? randomTelegramId() : randomMobile(); } while (chats.has(`${kind}:${id}`));
  openChat(kind, id);
}

function closeChat(chat) {
  chat.poller.stop();
  chat.root.remove();
  chats.delete(`${chat.kind}:${chat.id}`);
  saveChats();
  document.getElementById(chat.kind === "telegram" ? "add-telegram" : "add-sms").focus();
}

// ------------------------------------------------------------------ results

const surveySelect = document.getElementById("survey-select");
const resultsBody = document.getElementById("results-body");
let resultsSignature = "";

function renderSurveyOptions(surveys) {
  const wanted = surveys.map((s) => `${s.id}\n${s.title}`).join("\n");
  if (surveySelect.dataset.surveys === wanted) return;
  surveySelect.dataset.surveys = wanted;
  const chosen = surveySelect.value;
  for (const option of [...surveySelect.options].slice(1)) option.remove();
  for (const survey of surveys) surveySelect.append(h("option", { value: survey.id, text: survey.title }));
  surveySelect.value = surveys.some((s) => s.id === chosen) ? chosen : "";
}

function renderQuestion(question) {
  const item = h("li", { class: "question" },
    h("h4", { text: question.text }),
    h("p", { class: "question__answered", text: t("answered", { n: numbers.format(question.answered) }) }));
  if (question.choices.length) {
    item.append(h("ul", { class: "bars" }, ...question.choices.map((choice) => {
      const fill = h("span", { class: "bar__fill" });
      fill.style.inlineSize = `${Math.max(0, Math.min(100, choice.percent))}%`;
      return h("li", { class: "bars__row" },
        h("span", { class: "bars__label", text: choice.label }),
        h("span", { class: "bars__value", text: `${numbers.format(choice.count)} (${percents.format(choice.percent / 100)})` }),
        h("span", { class: "bar", "aria-hidden": "true" }, fill));
    })));
  }
  if (question.median !== null && question.median !== undefined) {
    item.append(h("p", { class: "question__median", text: t("median", { median: numbers.format(question.median) }) }));
  }
  return item;
}

function renderResults(survey) {
  if (!survey) {
    resultsBody.replaceChildren(h("p", { text: t("no_answers") }));
    return;
  }
  const sessions = survey.sessions ?? {};
  const answered = survey.questions.some((q) => q.answered > 0);
  resultsBody.replaceChildren(
    h("h3", { class: "results__title", text: survey.title }),
    h("p", { class: "results__sessions", text: [
      t("started", { n: numbers.format(sessions.started ?? 0) }),
      t("completed", { n: numbers.format(sessions.completed ?? 0) }),
    ].join(" · ") }),
    ...(answered ? [] : [h("p", { class: "results__empty", text: t("no_answers") })]),
    h("ol", { class: "questions" }, ...survey.questions.map(renderQuestion)));
}

async function refreshResults() {
  const chosen = surveySelect.value;
  const query = new URLSearchParams({ lang });
  if (chosen) query.set("survey", chosen);
  const data = await api(`results?${query}`);
  if (surveySelect.value !== chosen) return; // changed meanwhile: that answer is on its way
  const signature = JSON.stringify(data);
  if (signature === resultsSignature) return;
  resultsSignature = signature;
  renderSurveyOptions(data.surveys);
  renderResults(data.survey);
}

// ------------------------------------------------------------------ start

function start() {
  document.getElementById("intro").textContent = t("intro");
  document.getElementById("languages-label").textContent = t("language");
  document.querySelector("#languages ul").append(...config.languages.map(({ code, name }) =>
    h("li", {}, h("a", {
      href: `?lang=${encodeURIComponent(code)}`, lang: code, hreflang: code, text: name,
      "aria-current": code === lang ? "page" : null,
    }))));
  const addTelegram = document.getElementById("add-telegram");
  const addSms = document.getElementById("add-sms");
  addTelegram.textContent = t("add_telegram");
  addSms.textContent = t("add_sms");
  addTelegram.addEventListener("click", () => addChat("telegram"));
  addSms.addEventListener("click", () => addChat("sms"));

  document.getElementById("results-title").textContent = t("results");
  document.getElementById("survey-label").textContent = t("survey");
  document.getElementById("survey-latest").textContent = t("latest");
  const results = new Poller(refreshResults, 1500);
  surveySelect.addEventListener("change", () => results.tick());
  results.start();

  let saved = [];
  try { saved = JSON.parse(sessionStorage.getItem(STORAGE_KEY) ?? "[]"); } catch { /* start empty */ }
  for (const { kind, id } of Array.isArray(saved) ? saved : []) {
    if ((kind === "telegram" || kind === "sms") && typeof id === "string") openChat(kind, id, { focus: false });
  }
}

start();
