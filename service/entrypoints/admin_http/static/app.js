// TikTok Shop admin page.
//
// Safety rule for this file: every value that came from the API is put into the page with
// textContent, createTextNode, append(string), option labels or a property (href, dateTime,
// value); nothing from the API is ever parsed as markup.
"use strict";

(() => {
  const API = "/admin/tiktok-shop";
  const TOKEN_KEY = "tiktokShop.adminToken";
  const PAGE_SIZE = 20;
  const POLL_INTERVAL_MS = 1000;
  const POLL_LIMIT_MS = 10 * 60 * 1000;
  const ACTIVE_SYNC = new Set(["pending", "syncing"]);
  const DASH = "—";

  const $ = (id) => document.getElementById(id);

  // ---------------------------------------------------------------- token storage

  let memoryToken = null; // used only when sessionStorage is unavailable

  function getToken() {
    try {
      return window.sessionStorage.getItem(TOKEN_KEY);
    } catch {
      return memoryToken;
    }
  }

  function setToken(token) {
    try {
      window.sessionStorage.setItem(TOKEN_KEY, token);
    } catch {
      memoryToken = token;
    }
  }

  function clearToken() {
    memoryToken = null;
    try {
      window.sessionStorage.removeItem(TOKEN_KEY);
    } catch {
      /* nothing stored */
    }
  }

  // ---------------------------------------------------------------- API access

  /** Incremented on every sign-in and sign-out: answers from an older session are dropped. */
  let session = 0;
  let appShown = false;

  /** Thrown when a call is abandoned because the session ended (401 or sign-out). */
  class SignedOut extends Error {
    constructor() {
      super("signed out");
      this.name = "SignedOut";
    }
  }

  /** A failed API call. `message` is what the page shows: the service's JSON `error`, with
   * what the status means for the operator (503: retry; 500: the service's own fault) and
   * TikTok's code when TikTok refused. */
  class ApiError extends Error {
    constructor(status, code, message, { fields = [], tiktokCode = null, detail = message } = {}) {
      super(message);
      this.name = "ApiError";
      this.status = status;
      this.code = code;
      this.fields = fields;
      this.tiktokCode = tiktokCode;
      this.detail = detail;
    }

    static fromResponse(status, body) {
      let detail = "";
      let code = "http_" + status;
      let fields = [];
      let tiktokCode = null;
      if (body && typeof body === "object") {
        if (typeof body.error === "string") detail = body.error;
        else if (typeof body.message === "string") detail = body.message;
        else if (typeof body.detail === "string") detail = body.detail;
        if (typeof body.code === "string") code = body.code;
        if (Array.isArray(body.fields)) fields = body.fields.filter((f) => f && typeof f === "object");
        if (Number.isSafeInteger(body.tiktokCode)) tiktokCode = body.tiktokCode;
      }
      if (!detail) detail = "The request failed (HTTP " + status + ").";
      const details = fields
        .map((f) => [f.field, f.message].filter((x) => typeof x === "string" && x).join(": "))
        .filter(Boolean);
      if (details.length) detail += " (" + details.join("; ") + ")";
      let message = detail;
      if (status === 503) message = "Service unavailable, retry in a moment: " + detail;
      else if (status === 500) message = "The service failed (HTTP 500): " + detail;
      else if (tiktokCode !== null) message = "TikTok refused (code " + tiktokCode + "): " + detail;
      return new ApiError(status, code, message, { fields, tiktokCode, detail });
    }
  }

  async function api(path, { method = "GET", params = null, body = undefined } = {}) {
    const token = getToken();
    const started = session;
    if (!token) throw new SignedOut();
    let url = API + path;
    if (params) url += "?" + new URLSearchParams(params).toString();
    const headers = { Authorization: "Bearer " + token, Accept: "application/json" };
    const init = { method, headers, cache: "no-store", credentials: "same-origin", redirect: "error" };
    if (body !== undefined) {
      headers["Content-Type"] = "application/json";
      init.body = JSON.stringify(body);
    }

    let res;
    try {
      res = await fetch(url, init);
    } catch {
      if (started !== session) throw new SignedOut();
      throw new ApiError(0, "network", "Could not reach the service. Check the connection and try again.");
    }
    if (started !== session) throw new SignedOut();

    if (res.status === 401) {
      signOut(
        appShown
          ? "Your session has ended: the admin token was not accepted. Sign in again."
          : "That admin token was not accepted.",
      );
      throw new SignedOut();
    }

    let answer = null;
    try {
      const text = await res.text();
      answer = text ? JSON.parse(text) : null;
    } catch {
      answer = null;
    }
    if (started !== session) throw new SignedOut();

    if (!res.ok) throw ApiError.fromResponse(res.status, answer);
    if (!answer || typeof answer !== "object") {
      throw new ApiError(res.status, "bad_response", "The service sent an answer this page cannot read.");
    }
    return answer;
  }

  const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));
  const enc = encodeURIComponent;

  // ---------------------------------------------------------------- small helpers

  function el(tag, { className = "", text = null, attrs = null } = {}, children = []) {
    const node = document.createElement(tag);
    if (className) node.className = className;
    if (text !== null && text !== undefined) node.textContent = String(text);
    if (attrs) for (const [k, v] of Object.entries(attrs)) node.setAttribute(k, String(v));
    for (const child of children) if (child !== null && child !== undefined) node.append(child); // strings become text nodes
    return node;
  }

  function button(text, className = "btn") {
    return el("button", { className, text, attrs: { type: "button" } });
  }

  function muted(text = DASH) {
    return el("span", { className: "muted", text });
  }

  function str(value) {
    return typeof value === "string" ? value : "";
  }

  function num(value) {
    return typeof value === "number" && Number.isFinite(value) ? value : 0;
  }

  function isCount(value) {
    return typeof value === "number" && Number.isFinite(value);
  }

  /** The objects of an array answer field ([] for anything else). */
  function objects(value) {
    return Array.isArray(value) ? value.filter((x) => x && typeof x === "object") : [];
  }

  function strings(value) {
    return Array.isArray(value) ? value.filter((x) => typeof x === "string") : [];
  }

  function formatCount(value) {
    return isCount(value) ? String(value) : DASH;
  }

  function plural(n, one, many) {
    return n === 1 ? one : many;
  }

  function showMessage(node, text) {
    node.textContent = text || "";
    node.hidden = !text;
  }

  /** A status line: `kind` is "ok", "warn", "error" or "" (neutral). */
  function setResult(node, text, kind = "", err = null) {
    node.textContent = text || "";
    node.className = "result" + (kind ? " result-" + kind : "");
    if (err && err.tiktokCode !== null && err.tiktokCode !== undefined) node.dataset.tiktokCode = String(err.tiktokCode);
    else delete node.dataset.tiktokCode;
    if (err && err.status) node.dataset.httpStatus = String(err.status);
    else delete node.dataset.httpStatus;
  }

  function errorText(err, prefix = "") {
    const node = el("p", { className: "error-text", text: prefix + err.message });
    if (err.tiktokCode !== null && err.tiktokCode !== undefined) node.dataset.tiktokCode = String(err.tiktokCode);
    if (err.status) node.dataset.httpStatus = String(err.status);
    return node;
  }

  function codeList(names) {
    const nodes = [];
    names.forEach((name, i) => {
      if (i > 0) nodes.push(i === names.length - 1 ? " and " : ", ");
      nodes.push(el("code", { text: name }));
    });
    return nodes;
  }

  function label(value) {
    const text = String(value);
    return text.charAt(0).toUpperCase() + text.slice(1);
  }

  /** An ISO-8601 time shown in the viewer's locale, with the exact value in a tooltip. */
  function timeNode(iso, fallback = DASH) {
    if (typeof iso !== "string" || !iso) return muted(fallback);
    const date = new Date(iso);
    if (Number.isNaN(date.getTime())) return document.createTextNode(iso);
    const node = el("time", { text: date.toLocaleString() });
    node.dateTime = iso;
    node.title = iso;
    return node;
  }

  /** An http(s) URL as a string, or null for anything else (javascript:, data:, relative...). */
  function safeHttpUrl(value) {
    if (typeof value !== "string" || !value.trim()) return null;
    try {
      const url = new URL(value.trim());
      return url.protocol === "http:" || url.protocol === "https:" ? url.href : null;
    } catch {
      return null;
    }
  }

  const TONES = {
    ok: ["active", "synced", "delivered", "connected", "shipped", "completed", "approved", "settled"],
    info: ["pending", "syncing", "confirmed", "draft", "outdated", "running"],
    bad: ["rejected", "failed", "suspended", "cancelled", "refunded", "error"],
  };

  function tone(status) {
    for (const [name, list] of Object.entries(TONES)) if (list.includes(status)) return name;
    return "neutral";
  }

  function statusBadge(status) {
    if (typeof status !== "string" || !status) return muted();
    return el("span", { className: "badge status tone-" + tone(status), text: status });
  }

  /** A small marker beside a value: "Needs refresh", "settled", "3 awaiting you"... */
  function flag(text, toneName, title = "") {
    const node = el("span", { className: "flag tone-" + toneName, text });
    if (title) node.title = title;
    return node;
  }

  // ---------------------------------------------------------------- the service's vocabulary

  /** Status lists and ISO 4217 exponents, as the service itself uses them (GET /vocabulary). */
  const vocabulary = {
    listingStatuses: [],
    syncStatuses: [],
    orderStatuses: [],
    auditStatuses: [],
    currencyExponents: {},
  };
  const FILTERS = [
    ["listings-status", "listingStatuses"],
    ["listings-sync", "syncStatuses"],
    ["orders-status", "orderStatuses"],
  ];

  function fillSelect(select, values) {
    const keep = select.value;
    const options = [el("option", { text: "All", attrs: { value: "" } })];
    for (const value of values) options.push(el("option", { text: label(value), attrs: { value } }));
    select.replaceChildren(...options);
    select.value = values.includes(keep) ? keep : "";
  }

  async function loadVocabulary() {
    try {
      const body = await api("/vocabulary");
      for (const key of ["listingStatuses", "syncStatuses", "orderStatuses", "auditStatuses"]) {
        vocabulary[key] = strings(body[key]);
      }
      const exponents = {};
      const given = body.currencyExponents && typeof body.currencyExponents === "object" ? body.currencyExponents : {};
      for (const [code, exponent] of Object.entries(given)) {
        if (/^[A-Z]{3}$/.test(code) && Number.isInteger(exponent) && exponent >= 0 && exponent <= 6) {
          exponents[code] = exponent;
        }
      }
      vocabulary.currencyExponents = exponents;
      showMessage($("vocabulary-error"), "");
    } catch (err) {
      if (err instanceof SignedOut) throw err;
      showMessage(
        $("vocabulary-error"),
        "Could not load the service's vocabulary (status lists, currency digits): " +
          err.message +
          " Amounts are shown in minor units until Refresh succeeds.",
      );
    }
    for (const [id, key] of FILTERS) fillSelect($(id), vocabulary[key]);
  }

  // ---------------------------------------------------------------- money (ISO 4217 minor units)

  const moneyFormats = new Map();

  function exponentOf(currency) {
    const code = typeof currency === "string" ? currency.toUpperCase() : "";
    const exponent = vocabulary.currencyExponents[code];
    return Number.isInteger(exponent) ? exponent : null;
  }

  /** 1299, 2 -> "12.99"; -5, 2 -> "-0.05"; 1500, 0 -> "1500": exact, no floating point. */
  function decimalText(minor, exponent) {
    const negative = minor < 0;
    let digits = String(Math.abs(minor));
    if (exponent > 0) {
      digits = digits.padStart(exponent + 1, "0");
      digits = digits.slice(0, -exponent) + "." + digits.slice(-exponent);
    }
    return (negative ? "-" : "") + digits;
  }

  /** Integer minor units + ISO 4217 code -> the viewer's locale money text, with the digits
   * the service's exponent gives (IDR 2, JPY 0), not the browser's own idea of them. */
  function formatMoney(minor, currency) {
    if (!Number.isSafeInteger(minor)) return DASH;
    const code = typeof currency === "string" ? currency.toUpperCase() : "";
    const exponent = exponentOf(code);
    if (exponent === null) return (minor + " " + code + " (minor units)").replace("  ", " ");
    const text = decimalText(minor, exponent);
    try {
      let fmt = moneyFormats.get(code + exponent);
      if (!fmt) {
        fmt = new Intl.NumberFormat(undefined, {
          style: "currency",
          currency: code,
          minimumFractionDigits: exponent,
          maximumFractionDigits: exponent,
        });
        moneyFormats.set(code + exponent, fmt);
      }
      return fmt.format(text); // a decimal string is formatted exactly
    } catch {
      return text + " " + code;
    }
  }

  /** "14.5" in USD -> {minor: 1450}; more decimals than the currency has -> {error}. */
  function parseAmount(text, currency) {
    const code = str(currency).toUpperCase();
    const exponent = exponentOf(code);
    if (exponent === null) return { error: "The service does not know the currency " + (code || "(none)") + "." };
    const match = /^(\d+)(?:[.,](\d*))?$/.exec(text.trim());
    if (!match) return { error: "Enter an amount such as " + decimalText(1299 * 10 ** Math.max(0, exponent - 2), exponent) + "." };
    const fraction = match[2] || "";
    if (fraction.length > exponent) {
      return { error: code + " has " + exponent + " decimal" + (exponent === 1 ? "" : "s") + ": " + text.trim() + " cannot be sent exactly." };
    }
    const minor = Number(match[1] + fraction.padEnd(exponent, "0"));
    if (!Number.isSafeInteger(minor)) return { error: "That amount is too large." };
    return { minor };
  }

  // ---------------------------------------------------------------- countdowns

  function countdownText(deadline) {
    let left = Math.floor((deadline - Date.now()) / 1000);
    if (left <= 0) return "deadline passed";
    const days = Math.floor(left / 86400);
    left -= days * 86400;
    const hours = Math.floor(left / 3600);
    left -= hours * 3600;
    const minutes = Math.floor(left / 60);
    const seconds = left - minutes * 60;
    if (days) return days + " d " + hours + " h left";
    if (hours) return hours + " h " + minutes + " min left";
    if (minutes) return minutes + " min " + seconds + " s left";
    return seconds + " s left";
  }

  /** The time left until TikTok decides by itself; kept current by the ticker below. */
  function countdownNode(iso) {
    const deadline = new Date(str(iso)).getTime();
    if (Number.isNaN(deadline)) return muted("no deadline");
    const node = el("span", { className: "countdown", text: countdownText(deadline) });
    node.dataset.deadline = iso;
    node.title = "TikTok decides by itself at " + new Date(deadline).toLocaleString();
    return node;
  }

  setInterval(() => {
    for (const node of document.querySelectorAll(".countdown[data-deadline]")) {
      node.textContent = countdownText(new Date(node.dataset.deadline).getTime());
    }
  }, 1000);

  // ---------------------------------------------------------------- sign-in / sign-out

  const signinSection = $("signin");
  const signinForm = $("signin-form");
  const tokenInput = $("token");
  const signinError = $("signin-error");
  const signinNote = $("signin-note");
  const signinSubmit = $("signin-submit");
  const app = $("app");
  const boot = $("boot");
  const signoutButton = $("signout");

  function showSignin({ error = "", note = "" } = {}) {
    appShown = false;
    app.hidden = true;
    boot.hidden = true;
    signoutButton.hidden = true;
    signinSection.hidden = false;
    signinSubmit.disabled = false;
    showMessage(signinError, error);
    showMessage(signinNote, note);
    tokenInput.value = "";
    tokenInput.focus();
  }

  function showApp() {
    appShown = true;
    signinSection.hidden = true;
    boot.hidden = true;
    app.hidden = false;
    signoutButton.hidden = false;
  }

  function signOut(error = "", note = "") {
    session += 1; // abandons every call and every poll of the old session
    clearToken();
    clearData();
    showSignin({ error, note });
  }

  /** Start a session with the stored token: check it against the settings, then load the rest. */
  async function enter() {
    session += 1;
    const mine = session;
    let settings = null;
    let settingsError = null;
    const vocabularyLoaded = loadVocabulary().catch((err) => err);
    try {
      settings = await api("/settings");
    } catch (err) {
      if (err instanceof SignedOut) return;
      settingsError = err;
    }
    if ((await vocabularyLoaded) instanceof SignedOut) return;
    if (mine !== session) return;
    showApp();
    if (settings) renderConnection(settings);
    else renderConnectionFailure(settingsError);
    loadStats();
    activateTab(activeTab, { focus: false });
    resumeCatalogWatch();
    resumeReconcileWatch();
  }

  signinForm.addEventListener("submit", (event) => {
    event.preventDefault();
    const token = tokenInput.value.trim();
    if (!token) {
      showMessage(signinError, "Enter the admin token.");
      tokenInput.focus();
      return;
    }
    showMessage(signinError, "");
    showMessage(signinNote, "");
    signinSubmit.disabled = true;
    setToken(token);
    tokenInput.value = "";
    enter().finally(() => {
      signinSubmit.disabled = false;
    });
  });

  signoutButton.addEventListener("click", () => {
    signOut("", "You have signed out.");
  });

  // ---------------------------------------------------------------- connection card

  const CONNECTION_HEADINGS = {
    connected: "Connected",
    not_configured: "Not Configured",
    error: "Connection Error",
  };

  /** The connection's last known status ("" when unknown). */
  let connectionStatus = "";

  function renderConnection(s) {
    const card = $("connection");
    const status = typeof s.status === "string" ? s.status : "";
    const reauthorize = status === "error" && s.needsReauthorization === true;
    connectionStatus = status;
    card.dataset.state = status;
    if (reauthorize) card.dataset.reauthorize = "true";
    else delete card.dataset.reauthorize;
    $("connection-status").textContent = reauthorize ? "Authorization Needed" : CONNECTION_HEADINGS[status] || "Unknown";

    const badge = $("connection-badge");
    badge.textContent = s.sandbox ? "Sandbox" : "Production";
    badge.className = "badge " + (s.sandbox ? "tone-info" : "tone-ok");
    badge.hidden = false;

    $("connection-shop").textContent = s.shopId ? String(s.shopId) : "Not set";
    $("connection-appkey").textContent = s.appKey ? String(s.appKey) : "Not set";

    const detail = $("connection-detail");
    detail.replaceChildren();
    if (status === "connected") {
      detail.append(el("p", { className: "muted", text: "The service can reach TikTok Shop with these credentials." }));
    } else if (status === "not_configured") {
      detail.append(
        el("p", {}, [
          "TikTok Shop is not set up yet. Set ",
          ...codeList(["TIKTOK_APP_KEY", "TIKTOK_APP_SECRET", "TIKTOK_ACCESS_TOKEN"]),
          " (and ",
          el("code", { text: "TIKTOK_SHOP_ID" }),
          ") in the service's environment, then restart the service.",
        ]),
      );
    } else if (status === "error" && !reauthorize) {
      detail.append(
        el("p", { className: "error-text connection-error", text: s.error ? String(s.error) : "TikTok Shop did not accept the request." }),
        el("p", { className: "small", text: "Press Refresh to check again. If it lasts, check the app's key and secret and TikTok's status." }),
      );
    }

    $("reauth").hidden = !reauthorize;
    $("reauth-error").textContent = reauthorize ? str(s.error) : "";
    renderWebhooks(s.webhooks);
  }

  function renderConnectionFailure(err) {
    connectionStatus = "";
    const card = $("connection");
    card.dataset.state = "unavailable";
    delete card.dataset.reauthorize;
    $("connection-status").textContent = "Status unavailable";
    $("connection-badge").hidden = true;
    $("reauth").hidden = true;
    renderWebhooks(null);
    $("connection-detail").replaceChildren(errorText(err, "Could not load the connection settings: "));
  }

  async function loadConnection() {
    try {
      renderConnection(await api("/settings"));
    } catch (err) {
      if (!(err instanceof SignedOut)) renderConnectionFailure(err);
    }
  }

  $("reauth-form").addEventListener("submit", async (event) => {
    event.preventDefault();
    const mine = session;
    const input = $("auth-code");
    const submit = $("reauth-submit");
    const result = $("connection-result");
    const code = input.value.trim();
    if (!code) {
      setResult(result, "Paste the authorization code TikTok gave the seller.", "error");
      input.focus();
      return;
    }
    submit.disabled = true;
    setResult(result, "Authorizing…");
    try {
      const body = await api("/shops/authorize", { method: "POST", body: { authCode: code } });
      input.value = "";
      const shops = strings(body.shopIds);
      setResult(result, "Authorized: " + (shops.length ? shops.join(", ") : "no shop") + ".", "ok");
      await loadConnection();
    } catch (err) {
      if (err instanceof SignedOut) return;
      setResult(result, "The authorization failed: " + err.message, "error", err);
    } finally {
      if (mine === session) submit.disabled = false;
    }
  });

  // ---------------------------------------------------------------- webhook registration

  function renderWebhooks(w) {
    const box = $("webhooks");
    if (!w || typeof w !== "object") {
      box.hidden = true;
      $("webhooks-table").tBodies[0].replaceChildren();
      return;
    }
    box.hidden = false;
    const address = str(w.address);
    const addressNode = $("webhooks-address");
    addressNode.replaceChildren(address ? document.createTextNode(address) : muted("Not set"));
    showMessage($("webhooks-error"), str(w.error));

    const entries = objects(w.webhooks);
    const missing = strings(w.missing);
    const missingNode = $("webhooks-missing");
    if (missing.length) {
      missingNode.replaceChildren(
        el("strong", { text: missing.length + " needed event " + plural(missing.length, "type is", "types are") + " not sent to this address: " }),
        ...codeList(missing),
        ". TikTok does not tell the service of these changes until they are registered (reconciliation still catches them, later).",
      );
      missingNode.hidden = false;
    } else {
      missingNode.replaceChildren();
      missingNode.hidden = true;
    }

    const rows = entries.map((entry) => {
      const registered = entry.registered === true;
      const row = el("tr", {}, [
        el("td", {}, [el("code", { text: str(entry.eventType) })]),
        el("td", {}, [flag(registered ? "registered" : "missing", registered ? "ok" : "bad")]),
        el("td", { className: "wrap-text" }, [entry.address ? document.createTextNode(String(entry.address)) : muted("none")]),
      ]);
      row.dataset.eventType = str(entry.eventType);
      row.dataset.registered = String(registered);
      return row;
    });
    $("webhooks-table").tBodies[0].replaceChildren(...rows);
    const registeredCount = entries.filter((e) => e.registered === true).length;
    $("webhooks-summary").textContent = registeredCount + " of " + entries.length + " event types registered";
    if (missing.length) $("webhooks-types").open = true;

    const partner = strings(w.partnerCenterTypes);
    const partnerNode = $("webhooks-partner");
    if (partner.length) {
      partnerNode.replaceChildren(
        el("strong", { text: "Set this address in Partner Center" }),
        " for ",
        ...codeList(partner),
        ": TikTok's Event API cannot register these types; they go to the address set for the app in Partner Center.",
      );
      partnerNode.hidden = false;
    } else {
      partnerNode.replaceChildren();
      partnerNode.hidden = true;
    }
  }

  $("webhooks-register").addEventListener("click", async (event) => {
    const registerButton = event.currentTarget;
    const mine = session;
    const result = $("webhooks-result");
    registerButton.disabled = true;
    setResult(result, "Registering the webhooks with TikTok…");
    try {
      const body = await api("/webhooks/register", { method: "POST" });
      const state = body.webhooks && typeof body.webhooks === "object" ? body.webhooks : null;
      renderWebhooks(state);
      const missing = state ? strings(state.missing) : [];
      if (missing.length) setResult(result, "Registered, but TikTok still misses: " + missing.join(", ") + ".", "warn");
      else setResult(result, "Registered: TikTok sends every needed event type to this address.", "ok");
    } catch (err) {
      if (err instanceof SignedOut) return;
      setResult(result, "Registering failed: " + err.message, "error", err);
    } finally {
      if (mine === session) registerButton.disabled = false;
    }
  });

  // ---------------------------------------------------------------- stats

  const statNodes = () => document.querySelectorAll("[data-stat]");
  let statsSeq = 0;

  function renderStats(stats) {
    for (const node of statNodes()) {
      const field = node.dataset.stat;
      const value = stats[field];
      if (field === "totalRevenue") {
        node.textContent = formatMoney(value, stats.currency);
        node.dataset.value = typeof value === "number" ? String(value) : "";
        node.dataset.currency = typeof stats.currency === "string" ? stats.currency : "";
      } else {
        node.textContent = formatCount(value);
        node.dataset.value = typeof value === "number" ? String(value) : "";
      }
    }
    const rows = objects(stats.moneyByCurrency).map((m) => {
      const currency = str(m.currency);
      const cell = (field) => {
        const td = el("td", { className: "num nowrap", text: formatMoney(m[field], currency) });
        td.dataset.money = field;
        td.dataset.value = isCount(m[field]) ? String(m[field]) : "";
        return td;
      };
      const row = el("tr", {}, [el("th", { attrs: { scope: "row" }, text: currency }), cell("gross"), cell("refunds"), cell("fees"), cell("net")]);
      row.dataset.currency = currency;
      return row;
    });
    $("money-table").tBodies[0].replaceChildren(...rows);
    $("money-table").hidden = !rows.length;
    $("money-note").hidden = !rows.length;
  }

  async function loadStats() {
    const seq = ++statsSeq;
    try {
      const body = await api("/stats");
      if (seq !== statsSeq) return;
      showMessage($("stats-error"), "");
      renderStats(body.stats && typeof body.stats === "object" ? body.stats : {});
    } catch (err) {
      if (err instanceof SignedOut || seq !== statsSeq) return;
      showMessage($("stats-error"), "Could not load the statistics: " + err.message);
    }
  }

  // ---------------------------------------------------------------- table rows

  const REFRESH_NOTE_LISTING =
    "TikTok changed this product and its state is still to be read from TikTok's API (the next reconciliation or products sync reads it).";
  const REFRESH_NOTE_ORDER =
    "TikTok changed this order and its details are still to be read from TikTok's API (the next reconciliation reads them).";
  const TIKTOK_REASON_STATUSES = new Set(["suspended", "rejected"]);

  function stockPending(l) {
    return num(l.stockRevision) > num(l.stockPushedRevision);
  }

  function pricePending(l) {
    return num(l.priceRevision) > num(l.pricePushedRevision);
  }

  function auditBadge(status) {
    if (typeof status !== "string" || status === "none" || !vocabulary.auditStatuses.includes(status)) return null;
    const toneName = { approved: "ok", failed: "bad", pending: "info" }[status] || "neutral";
    const node = el("span", { className: "badge audit tone-" + toneName, text: "audit " + status });
    node.dataset.audit = status;
    return node;
  }

  function listingRow(l) {
    const open = el("button", { className: "link-button title open-detail", text: str(l.title), attrs: { type: "button" } });
    open.addEventListener("click", () => openListing(str(l.id), open));
    const flags = el("span", { className: "flags" });
    if (l.needsRefresh === true) flags.append(flag("Needs refresh", "warn", REFRESH_NOTE_LISTING));

    const sync = el("td", { className: "col-sync" }, [statusBadge(l.syncStatus)]);
    const pushFlags = el("span", { className: "flags" });
    if (stockPending(l)) pushFlags.append(flag("stock to push", "info", "A stock change TikTok does not have yet"));
    if (pricePending(l)) pushFlags.append(flag("price to push", "info", "A price change TikTok does not have yet"));
    if (l.pushError) pushFlags.append(flag("push failed", "bad", String(l.pushError)));
    if (pushFlags.childNodes.length) sync.append(pushFlags);

    const stock = objects(l.stock);
    const stockCell = el("td", { className: "num nowrap col-stock" }, [
      el("span", { className: "stock-total", text: stock.length ? String(stock.reduce((n, s) => n + num(s.quantity), 0)) : DASH }),
    ]);
    if (isCount(l.tiktokStockTotal)) {
      stockCell.append(el("small", { className: "muted sub", text: "TikTok: " + l.tiktokStockTotal }));
    }
    if (l.inventoryStatus) stockCell.append(el("small", { className: "muted sub", text: String(l.inventoryStatus) }));

    const errorCell = el("td", { className: "wrap-text col-error" });
    if (l.error) {
      if (TIKTOK_REASON_STATUSES.has(l.status)) errorCell.append(el("span", { className: "cell-label", text: "TikTok's reason" }));
      errorCell.append(el("span", { className: "error-text", text: String(l.error) }));
    } else {
      errorCell.append(muted());
    }

    const row = el("tr", {}, [
      el("td", { className: "product col-product" }, [
        open,
        el("small", { className: "muted sub", text: str(l.localProductId) }),
        flags.childNodes.length ? flags : null,
      ]),
      el("td", { className: "col-status" }, [statusBadge(l.status), auditBadge(l.auditStatus)]),
      sync,
      stockCell,
      el("td", { className: "num nowrap col-price", text: formatMoney(l.price, l.currency) }),
      el("td", { className: "nowrap col-synced" }, [timeNode(l.lastSyncedAt, "Never")]),
      errorCell,
    ]);
    row.dataset.id = str(l.id);
    row.dataset.product = str(l.localProductId);
    return row;
  }

  function trackingNode(o) {
    const number = typeof o.trackingNumber === "string" && o.trackingNumber ? o.trackingNumber : "";
    const href = safeHttpUrl(o.trackingUrl);
    if (!number && !href) return muted();
    if (!href) return document.createTextNode(number);
    const link = document.createElement("a");
    link.href = href;
    link.rel = "noopener";
    link.target = "_blank";
    link.textContent = number || "Track";
    return link;
  }

  function awaitingRequests(o) {
    return objects(o.reverseRequests).filter((r) => r.awaitingSeller === true);
  }

  function orderRow(o) {
    const open = el("button", { className: "link-button mono open-detail", text: str(o.externalOrderId), attrs: { type: "button" } });
    open.addEventListener("click", () => openOrder(str(o.id), open));
    const flags = el("span", { className: "flags" });
    if (o.needsRefresh === true) flags.append(flag("Needs refresh", "warn", REFRESH_NOTE_ORDER));
    const awaiting = awaitingRequests(o);
    if (awaiting.length) {
      flags.append(flag(awaiting.length + " awaiting you", "warn", "A buyer's request waits for the seller's answer"));
      const deadlines = awaiting.map((r) => str(r.deadline)).filter(Boolean).sort();
      if (deadlines.length) flags.append(countdownNode(deadlines[0]));
    }

    const refunded = num(o.refundedAmount);
    const refundCell = el("td", { className: "num nowrap col-refunded" });
    if (refunded > 0) {
      refundCell.append(
        el("span", { className: "refunded", text: "−" + formatMoney(refunded, o.currency) }),
        el("small", { className: "muted sub net-of-refunds", text: "net " + formatMoney(num(o.total) - refunded, o.currency) }),
      );
    } else {
      refundCell.append(muted());
    }
    const settled = o.feesSettled === true;
    const feeCell = el("td", { className: "num nowrap col-fee" }, [
      el("span", { text: formatMoney(o.platformFee, o.currency) }),
      el("small", { className: "sub" }, [flag(settled ? "settled" : "pending", settled ? "ok" : "neutral", settled ? "TikTok's final figure" : "TikTok settles the fees some days after delivery")]),
    ]);
    const payoutCell = el("td", { className: "num nowrap col-payout" }, [
      Number.isSafeInteger(o.netAmount) ? document.createTextNode(formatMoney(o.netAmount, o.currency)) : muted("pending"),
    ]);

    const row = el("tr", {}, [
      el("td", { className: "nowrap col-order" }, [open, flags.childNodes.length ? flags : null]),
      el("td", { className: "col-customer" }, [o.customerName ? document.createTextNode(o.customerName) : muted()]),
      el("td", { className: "col-status" }, [statusBadge(o.status)]),
      el("td", { className: "num nowrap col-total", text: formatMoney(o.total, o.currency) }),
      refundCell,
      feeCell,
      payoutCell,
      el("td", { className: "col-date" }, [timeNode(o.createdAt)]),
      el("td", { className: "nowrap col-tracking" }, [trackingNode(o)]),
    ]);
    row.dataset.id = str(o.id);
    row.dataset.externalId = str(o.externalOrderId);
    return row;
  }

  function countsNode(counts) {
    const c = counts && typeof counts === "object" ? counts : {};
    const node = el("span", {
      className: "counts",
      text: num(c.created) + " new · " + num(c.changed) + " changed · " + num(c.unchanged) + " same",
    });
    if (num(c.failed)) node.append(" · ", el("span", { className: "error-text", text: num(c.failed) + " failed" }));
    return node;
  }

  function failuresList(failures, refField) {
    const shown = failures.slice(0, 10);
    const list = el(
      "ul",
      { className: "failures" },
      shown.map((f) => el("li", {}, [el("span", { className: "mono", text: str(f[refField]) }), ": ", str(f.error)])),
    );
    if (failures.length > shown.length) list.append(el("li", { className: "muted", text: "and " + (failures.length - shown.length) + " more" }));
    return list;
  }

  function reconciliationRow(run) {
    const problems = el("td", { className: "wrap-text col-problems" });
    if (run.error) problems.append(el("p", { className: "error-text", text: String(run.error) }));
    const failures = objects(run.failures);
    if (failures.length) problems.append(failuresList(failures, "ref"));
    if (!problems.childNodes.length) problems.append(muted());
    const row = el("tr", {}, [
      el("td", { className: "nowrap col-started" }, [timeNode(run.startedAt)]),
      el("td", { className: "col-trigger", text: run.trigger === "command" ? "by hand" : run.trigger === "schedule" ? "scheduled" : str(run.trigger) }),
      el("td", { className: "col-status" }, [statusBadge(run.status)]),
      el("td", { className: "col-orders" }, [countsNode(run.orders)]),
      el("td", { className: "col-requests" }, [countsNode(run.requests)]),
      el("td", { className: "col-products" }, [countsNode(run.products)]),
      el("td", { className: "num col-refreshed", text: formatCount(run.refreshed) }),
      el("td", { className: "num col-fees", text: formatCount(run.feesSettled) }),
      el("td", { className: "num col-drift", text: formatCount(run.drift) }),
      problems,
    ]);
    row.dataset.runId = str(run.id);
    row.dataset.status = str(run.status);
    return row;
  }

  // ---------------------------------------------------------------- tables

  function makeTable(key, { path, empty, one, many, render, columns, filters = [] }) {
    return {
      key,
      path,
      empty,
      one,
      many,
      render,
      columns,
      page: 1,
      total: null,
      seq: 0,
      selects: filters.map((id) => $(id)),
      tbody: document.querySelector("#" + key + "-table tbody"),
      wrap: document.querySelector("#" + key + "-table").parentElement,
      prev: $(key + "-prev"),
      next: $(key + "-next"),
      pageLabel: $(key + "-page"),
      range: $(key + "-range"),
    };
  }

  const tables = {
    listings: makeTable("listings", {
      path: "/listings",
      empty: "No listings",
      one: "listing",
      many: "listings",
      render: listingRow,
      columns: 7,
      filters: ["listings-status", "listings-sync"],
    }),
    orders: makeTable("orders", {
      path: "/orders",
      empty: "No orders",
      one: "order",
      many: "orders",
      render: orderRow,
      columns: 9,
      filters: ["orders-status"],
    }),
    reconciliations: makeTable("reconciliations", {
      path: "/reconciliations",
      empty: "No reconciliation has run yet",
      one: "run",
      many: "runs",
      render: reconciliationRow,
      columns: 10,
    }),
  };

  function messageRow(t, text, className, retry = false) {
    const cell = el("td", { className: "table-message " + className }, [el("span", { text })]);
    cell.colSpan = t.columns;
    if (retry) {
      const again = button("Retry", "btn btn-small");
      again.addEventListener("click", () => loadTable(t));
      cell.append(" ", again);
    }
    t.tbody.replaceChildren(el("tr", {}, [cell]));
  }

  function updatePager(t) {
    t.pageLabel.textContent = "Page " + t.page;
    t.prev.disabled = t.page <= 1;
    t.next.disabled = t.total === null || t.page * PAGE_SIZE >= t.total;
    if (t.total === null) {
      t.range.textContent = "";
    } else if (t.total === 0) {
      t.range.textContent = "0 " + t.many;
    } else {
      const first = Math.min((t.page - 1) * PAGE_SIZE + 1, t.total);
      const last = Math.min(t.page * PAGE_SIZE, t.total);
      t.range.textContent = first + "–" + last + " of " + t.total + " " + plural(t.total, t.one, t.many);
    }
  }

  async function loadTable(t, page = t.page) {
    const seq = ++t.seq;
    t.wrap.setAttribute("aria-busy", "true");
    t.prev.disabled = true;
    t.next.disabled = true;
    const params = { page: String(page), limit: String(PAGE_SIZE) };
    for (const select of t.selects) if (select.value) params[select.dataset.param] = select.value;
    try {
      const body = await api(t.path, { params });
      if (seq !== t.seq) return;
      const rows = objects(body[t.key]);
      const total = isCount(body.total) ? body.total : rows.length;
      const lastPage = Math.max(1, Math.ceil(total / PAGE_SIZE));
      if (!rows.length && page > lastPage) {
        // The page ran past the end (rows went away): show the last page that has rows.
        loadTable(t, lastPage);
        return;
      }
      t.page = page;
      t.total = total;
      if (rows.length) t.tbody.replaceChildren(...rows.map((r) => t.render(r)));
      else messageRow(t, t.empty, "empty");
    } catch (err) {
      if (err instanceof SignedOut || seq !== t.seq) return;
      t.page = page;
      t.total = null;
      messageRow(t, "Could not load " + t.many + ": " + err.message, "error-text", true);
    } finally {
      if (seq === t.seq) {
        t.wrap.removeAttribute("aria-busy");
        updatePager(t);
      }
    }
  }

  for (const t of Object.values(tables)) {
    for (const select of t.selects) select.addEventListener("change", () => loadTable(t, 1));
    t.prev.addEventListener("click", () => {
      if (t.page > 1) loadTable(t, t.page - 1);
    });
    t.next.addEventListener("click", () => {
      if (t.total !== null && t.page * PAGE_SIZE < t.total) loadTable(t, t.page + 1);
    });
  }

  // ---------------------------------------------------------------- tabs

  const tabs = {
    listings: { load: () => loadTable(tables.listings) },
    orders: { load: () => loadTable(tables.orders) },
    reconciliations: { load: () => loadTable(tables.reconciliations) },
    catalog: { load: () => loadCatalog() },
  };
  for (const [key, tab] of Object.entries(tabs)) {
    tab.key = key;
    tab.tab = $("tab-" + key);
    tab.panel = $("panel-" + key);
  }
  const tabOrder = Object.values(tabs);
  let activeTab = tabs.listings;

  function selectTab(t) {
    activeTab = t;
    for (const other of tabOrder) {
      const selected = other === t;
      other.tab.setAttribute("aria-selected", String(selected));
      other.tab.tabIndex = selected ? 0 : -1;
      other.panel.hidden = !selected;
    }
  }

  function activateTab(t, { focus = true } = {}) {
    selectTab(t);
    if (focus) t.tab.focus();
    t.load();
  }

  for (const t of tabOrder) {
    t.tab.addEventListener("click", () => activateTab(t, { focus: false }));
    t.tab.addEventListener("keydown", (event) => {
      const i = tabOrder.indexOf(t);
      let target = null;
      if (event.key === "ArrowRight") target = tabOrder[(i + 1) % tabOrder.length];
      else if (event.key === "ArrowLeft") target = tabOrder[(i - 1 + tabOrder.length) % tabOrder.length];
      else if (event.key === "Home") target = tabOrder[0];
      else if (event.key === "End") target = tabOrder[tabOrder.length - 1];
      if (target) {
        event.preventDefault();
        activateTab(target);
      }
    });
  }

  function reloadActive() {
    activeTab.load();
  }

  // ---------------------------------------------------------------- warehouses and categories

  /** The shop's TikTok warehouses, asked once per session (and again on Refresh). */
  let warehouses = null; // {list} or {error}
  let warehousesAsked = null;

  function getWarehouses(force = false) {
    if (force || !warehousesAsked) {
      const mine = session;
      warehousesAsked = api("/warehouses")
        .then((body) => ({ list: objects(body.warehouses) }))
        .catch((err) => {
          if (err instanceof SignedOut) throw err;
          return { error: err };
        })
        .then((result) => {
          if (mine === session) warehouses = result;
          return result;
        });
    }
    return warehousesAsked;
  }

  function warehouseName(id) {
    const found = warehouses && warehouses.list ? warehouses.list.find((w) => w.id === id) : null;
    return found ? str(found.name) : "";
  }

  function renderWarehouses(result) {
    const tbody = $("warehouses-table").tBodies[0];
    const message = $("warehouses-message");
    if (result.error) {
      tbody.replaceChildren();
      message.className = "error-text";
      showMessage(message, "Could not load TikTok's warehouses: " + result.error.message);
      return;
    }
    message.className = "muted";
    showMessage(message, result.list.length ? "" : "TikTok lists no warehouse for this shop.");
    tbody.replaceChildren(
      ...result.list.map((w) => {
        const ids = strings(w.platformWarehouseIds);
        const row = el("tr", {}, [
          el("td", {}, [document.createTextNode(str(w.name) || DASH), w.isDefault === true ? flag("default", "info") : null]),
          el("td", { className: "mono", text: str(w.id) }),
          el("td", { text: str(w.type) }),
          el("td", { text: str(w.status) || DASH }),
          el("td", {}, ids.length ? codeList(ids) : [muted("none mapped")]),
        ]);
        row.dataset.warehouseId = str(w.id);
        return row;
      }),
    );
  }

  let categoriesLoaded = false;
  let categorySeq = 0;
  let categoryTreeAsked = null;

  /** TikTok's whole category tree, asked once per session, for the names of a match's
   * parents ([] when it cannot be read: the matches then show without their path). */
  function categoryIndex() {
    if (!categoryTreeAsked) {
      categoryTreeAsked = api("/categories")
        .then((body) => objects(body.categories))
        .catch((err) => {
          categoryTreeAsked = null;
          if (err instanceof SignedOut) throw err;
          return [];
        });
    }
    return categoryTreeAsked;
  }

  async function loadCatalog() {
    const mine = session;
    const shown = getWarehouses(true).then((result) => {
      if (mine === session) renderWarehouses(result);
    });
    if (!categoriesLoaded) await searchCategories($("category-keyword").value.trim());
    await shown.catch(() => {});
  }

  /** TikTok's flat category list as a tree: children under their parent, in TikTok's order. */
  function categoryTree(categories, onLeaf) {
    const byId = new Map(categories.map((c) => [str(c.id), c]));
    const children = new Map();
    const roots = [];
    for (const c of categories) {
      const parent = str(c.parentId);
      if (parent && parent !== "0" && byId.has(parent)) {
        if (!children.has(parent)) children.set(parent, []);
        children.get(parent).push(c);
      } else {
        roots.push(c);
      }
    }
    const seen = new Set();
    const branch = (nodes, depth) => {
      const list = el("ul", { className: depth ? "tree-branch" : "tree" });
      for (const c of nodes) {
        const id = str(c.id);
        if (seen.has(id)) continue; // a cycle in the answer must not loop forever
        seen.add(id);
        const item = el("li", {}, [el("span", { className: "tree-name", text: str(c.name) }), " ", el("small", { className: "muted mono", text: id })]);
        item.dataset.categoryId = id;
        for (const permission of strings(c.permissionStatuses)) {
          if (permission !== "AVAILABLE") item.append(" ", flag(permission.toLowerCase().replaceAll("_", " "), "warn"));
        }
        if (c.isLeaf === true) {
          const show = button("Attributes", "btn btn-small");
          show.setAttribute("aria-label", "Attributes of " + str(c.name));
          show.addEventListener("click", () => onLeaf(c));
          item.append(" ", show);
        }
        const kids = children.get(id);
        if (kids && depth < 20) item.append(branch(kids, depth + 1));
        list.append(item);
      }
      return list;
    };
    return branch(roots, 0);
  }

  async function searchCategories(keyword) {
    const seq = ++categorySeq;
    const tree = $("category-tree");
    const message = $("categories-message");
    message.className = "muted";
    showMessage(message, "Loading TikTok's categories…");
    try {
      const body = await api("/categories", { params: keyword ? { keyword } : null });
      if (seq !== categorySeq) return;
      const categories = objects(body.categories);
      categoriesLoaded = true;
      showMessage(message, categories.length ? "" : "No category matches.");
      tree.replaceChildren(categoryTree(categories, (c) => showCategoryAttributes(c)));
    } catch (err) {
      if (err instanceof SignedOut || seq !== categorySeq) return;
      tree.replaceChildren();
      message.className = "error-text";
      showMessage(message, "Could not load TikTok's categories: " + err.message);
    }
  }

  $("category-search").addEventListener("submit", (event) => {
    event.preventDefault();
    searchCategories($("category-keyword").value.trim());
  });

  /** "required", "required if Contains SPF? is Yes", or "optional". */
  function requirement(attribute, byId) {
    if (attribute.required === true) return { text: "required", required: true };
    const conditions = objects(attribute.requiredIf);
    if (conditions.length) {
      const parts = conditions.map((c) => {
        const other = byId.get(str(c.attributeId));
        const value = other ? objects(other.values).find((v) => v.id === c.valueId) : null;
        return (other ? str(other.name) : str(c.attributeId)) + " is " + (value ? str(value.name) : str(c.valueId));
      });
      return { text: "required if " + parts.join(" or "), required: false, conditions };
    }
    return { text: "optional", required: false };
  }

  async function fetchAttributes(categoryId) {
    const body = await api("/categories/" + enc(categoryId) + "/attributes");
    return objects(body.attributes);
  }

  async function showCategoryAttributes(category) {
    const box = $("category-attributes");
    const mine = session;
    box.replaceChildren(el("p", { className: "muted", text: "Loading the attributes of " + str(category.name) + "…" }));
    try {
      const attributes = await fetchAttributes(str(category.id));
      if (mine !== session) return;
      const byId = new Map(attributes.map((a) => [str(a.id), a]));
      const rows = attributes.map((a) => {
        const need = requirement(a, byId);
        const values = objects(a.values);
        const row = el("tr", {}, [
          el("td", { text: str(a.name) }),
          el("td", { className: "mono", text: str(a.id) }),
          el("td", { text: a.type === "SALES_PROPERTY" ? "sales (variant)" : "product" }),
          el("td", {}, [flag(need.text, need.required ? "bad" : need.conditions ? "warn" : "neutral")]),
          el("td", { className: "wrap-text", text: values.length ? values.map((v) => str(v.name)).join(", ") : a.customizable === false ? DASH : "any text" }),
        ]);
        row.dataset.attributeId = str(a.id);
        row.dataset.requirement = need.text;
        return row;
      });
      const table = el("table", { className: "data-table compact" }, [
        el("caption", { text: "Attributes of " + str(category.name) + " (" + str(category.id) + ")" }),
        el("thead", {}, [
          el("tr", {}, ["Attribute", "Id", "Kind", "Required", "Values"].map((h) => el("th", { text: h, attrs: { scope: "col" } }))),
        ]),
        el("tbody", {}, rows),
      ]);
      table.dataset.categoryId = str(category.id);
      box.replaceChildren(rows.length ? el("div", { className: "table-wrap" }, [table]) : el("p", { className: "muted", text: "This category has no attributes." }));
    } catch (err) {
      if (err instanceof SignedOut || mine !== session) return;
      box.replaceChildren(errorText(err, "Could not load the attributes: "));
    }
  }

  // ---------------------------------------------------------------- sync, jobs, reconciliation

  const syncMessage = $("sync-message");
  const jobBox = $("job");
  const catalogBox = $("catalog-sync");
  const catalogButton = $("sync-catalog");
  const reconcileBox = $("reconcile-status");
  const reconcileButton = $("reconcile");
  let catalogWatching = false;
  let reconcileWatching = false;

  function setSyncMessage(text, kind = "") {
    syncMessage.textContent = text;
    syncMessage.className = "sync-message" + (kind ? " " + kind : "");
  }

  function refreshAfterSync() {
    loadStats();
    reloadActive();
  }

  const JOB_STATE = { running: "in progress", completed: "completed", failed: "failed" };

  function renderJob(job, labelText, many, note = "") {
    const status = str(job.status);
    jobBox.dataset.status = status;
    jobBox.dataset.jobId = str(job.id);
    const line = el("p", { className: "job-line tone-text-" + tone(status) }, [
      el("span", { className: "job-summary", text: labelText + ": " + num(job.done) + " " + many + " applied, " + num(job.failed) + " failed" }),
      " — ",
      el("span", { className: "job-state", text: JOB_STATE[status] || status || "unknown" }),
    ]);
    const nodes = [line];
    if (status === "running") {
      const bar = el("progress", { className: "catalog-progress", attrs: { "aria-label": labelText + " progress" } });
      nodes.push(bar);
    }
    if (job.error) nodes.push(el("p", { className: "error-text", text: String(job.error) }));
    const failures = objects(job.failures);
    if (failures.length) {
      nodes.push(el("p", { className: "small", text: "Could not apply:" }), failuresList(failures, "ref"));
    }
    if (note) nodes.push(el("p", { className: "muted small", text: note }));
    jobBox.replaceChildren(...nodes);
  }

  /** Poll GET /jobs/:id while the job runs; answers its last state (null once signed out). */
  async function followJob(job, labelText, many, mine) {
    const deadline = Date.now() + POLL_LIMIT_MS;
    let current = job;
    renderJob(current, labelText, many);
    while (current.status === "running") {
      await sleep(POLL_INTERVAL_MS);
      if (mine !== session) return null;
      if (Date.now() >= deadline) {
        renderJob(current, labelText, many, "Still running after 10 minutes; stopped watching. Press Refresh later.");
        return current;
      }
      try {
        const body = await api("/jobs/" + enc(str(current.id)));
        if (body.job && typeof body.job === "object") current = body.job;
      } catch (err) {
        if (err instanceof SignedOut) return null;
        renderJob(current, labelText, many, "Could not check progress (" + err.message + "); retrying.");
        continue;
      }
      renderJob(current, labelText, many);
    }
    return current;
  }

  async function runPull(pullButton, path, labelText, one, many) {
    const mine = session;
    pullButton.disabled = true;
    setSyncMessage("Syncing " + many + "…");
    delete jobBox.dataset.status;
    jobBox.replaceChildren();
    try {
      const body = await api(path, { method: "POST" });
      let job = body.job && typeof body.job === "object" ? body.job : null;
      if (job && job.status === "running") {
        setSyncMessage(labelText + " is running…");
        job = await followJob(job, labelText, many, mine);
        if (job === null) return;
      } else if (job) {
        renderJob(job, labelText, many);
      }
      const synced = job ? num(job.done) : num(body.synced);
      const failed = job ? num(job.failed) : num(body.failed);
      if (job && job.status === "failed") {
        setSyncMessage(labelText + " failed after " + synced + " " + plural(synced, one, many) + ": " + str(job.error), "error-text");
      } else if (job && job.status === "running") {
        setSyncMessage(labelText + " is still running.");
      } else {
        setSyncMessage("Synced " + synced + " " + plural(synced, one, many) + (failed ? ", " + failed + " failed" : ""), failed ? "warn" : "ok");
      }
    } catch (err) {
      if (err instanceof SignedOut) return;
      setSyncMessage(labelText + " failed: " + err.message, "error-text");
    } finally {
      if (mine === session) pullButton.disabled = false;
    }
    if (mine === session) refreshAfterSync();
  }

  $("sync-products").addEventListener("click", (event) =>
    runPull(event.currentTarget, "/products/sync", "Sync Products", "product", "products"),
  );
  $("sync-orders").addEventListener("click", (event) =>
    runPull(event.currentTarget, "/orders/sync", "Sync Orders", "order", "orders"),
  );

  const CATALOG_STATUS_TEXT = {
    pending: "waiting to start",
    syncing: "in progress",
    synced: "completed",
    failed: "failed",
  };

  /** Without TikTok credentials the service records a catalog sync as pending and never runs it:
   * such a sync is not watched (it would show progress and lock the button for 10 minutes). */
  function wontStart(sync) {
    return sync.status === "pending" && connectionStatus === "not_configured";
  }

  function renderCatalog(sync, note = "") {
    const total = num(sync.totalProducts);
    const synced = num(sync.syncedProducts);
    const failed = num(sync.failedProducts);
    const status = str(sync.status);
    const stalled = wontStart(sync);
    const active = ACTIVE_SYNC.has(status) && !stalled;
    catalogBox.dataset.status = status;

    const summary = "Catalog sync: " + synced + " of " + total + " synced, " + failed + " failed";
    const state = stalled ? "not started" : CATALOG_STATUS_TEXT[status] || status || "unknown";
    const line = el("p", { className: "catalog-line tone-text-" + tone(status) }, [
      el("span", { className: "catalog-summary", text: summary }),
      " — ",
      el("span", { className: "catalog-state", text: state }),
    ]);
    const nodes = [line];

    if (active) {
      const bar = el("progress", { className: "catalog-progress", attrs: { "aria-label": "Catalog sync progress" } });
      if (total > 0) {
        bar.max = total;
        bar.value = Math.min(total, synced + failed);
      }
      nodes.push(bar);
    }
    if (sync.error) nodes.push(el("p", { className: "error-text", text: String(sync.error) }));
    const failures = objects(sync.failures);
    if (!active && failures.length) nodes.push(failuresList(failures, "listingId"));
    if (stalled) {
      nodes.push(
        el("p", { className: "muted small" }, [
          "TikTok Shop is not configured, so the sync will not start. Set ",
          ...codeList(["TIKTOK_APP_KEY", "TIKTOK_APP_SECRET", "TIKTOK_ACCESS_TOKEN"]),
          " and restart the service.",
        ]),
      );
    }
    if (note) nodes.push(el("p", { className: "muted small", text: note }));
    catalogBox.replaceChildren(...nodes);
  }

  function setCatalogText(text, className) {
    delete catalogBox.dataset.status;
    catalogBox.replaceChildren(el("p", { className, text }));
  }

  async function watchCatalog(initial) {
    if (catalogWatching) return;
    const mine = session;
    const deadline = Date.now() + POLL_LIMIT_MS;
    catalogWatching = true;
    catalogButton.disabled = true;
    let current = initial;
    try {
      while (ACTIVE_SYNC.has(current.status) && !wontStart(current)) {
        renderCatalog(current);
        await sleep(POLL_INTERVAL_MS);
        if (mine !== session) return;
        if (Date.now() >= deadline) {
          renderCatalog(current, "Still running after 10 minutes; stopped watching. Press Refresh later to see the result.");
          return;
        }
        try {
          const body = await api("/syncs", { params: { page: "1", limit: "1" } });
          const newest = Array.isArray(body.syncs) ? body.syncs[0] : null;
          if (newest && typeof newest === "object") current = newest;
        } catch (err) {
          if (err instanceof SignedOut) return;
          renderCatalog(current, "Could not check progress (" + err.message + "); retrying.");
          continue;
        }
      }
      renderCatalog(current);
    } finally {
      if (mine === session) {
        catalogWatching = false;
        catalogButton.disabled = false;
        refreshAfterSync();
      }
    }
  }

  catalogButton.addEventListener("click", async () => {
    if (catalogWatching) return;
    const mine = session;
    catalogButton.disabled = true;
    setCatalogText("Catalog sync: starting…", "muted");
    let sync = null;
    try {
      const body = await api("/sync", { method: "POST" });
      sync = body.sync && typeof body.sync === "object" ? body.sync : null;
      if (!sync) throw new ApiError(200, "bad_response", "The service did not describe the new sync.");
    } catch (err) {
      if (err instanceof SignedOut) return;
      setCatalogText(err.status === 409 ? err.message : "Catalog sync failed: " + err.message, "error-text");
      if (mine === session) catalogButton.disabled = false;
      return;
    }
    if (mine !== session) return;
    catalogButton.disabled = false;
    watchCatalog(sync);
  });

  /** After sign-in, keep showing a catalog sync that is already running. */
  async function resumeCatalogWatch() {
    try {
      const body = await api("/syncs", { params: { page: "1", limit: "1" } });
      const newest = Array.isArray(body.syncs) ? body.syncs[0] : null;
      if (newest && typeof newest === "object" && ACTIVE_SYNC.has(newest.status) && !wontStart(newest)) {
        watchCatalog(newest);
      }
    } catch {
      /* not essential: the button still works */
    }
  }

  const RUN_STATE = { running: "in progress", completed: "completed", failed: "failed" };

  function renderReconcile(run, note = "") {
    const status = str(run.status);
    reconcileBox.dataset.status = status;
    reconcileBox.dataset.runId = str(run.id);
    const line = el("p", { className: "reconcile-line tone-text-" + tone(status) }, [
      el("span", { text: "Reconciliation " }),
      el("span", { className: "reconcile-state", text: RUN_STATE[status] || status || "unknown" }),
      status === "running" ? "" : ": drift " + num(run.drift) + ", " + num(run.refreshed) + " refreshed, " + num(run.feesSettled) + " fees settled",
    ]);
    const nodes = [line];
    const counts = el("ul", { className: "run-counts small" }, [
      el("li", {}, ["Orders: ", countsNode(run.orders)]),
      el("li", {}, ["Requests: ", countsNode(run.requests)]),
      el("li", {}, ["Products: ", countsNode(run.products)]),
    ]);
    if (status === "running") {
      nodes.push(el("progress", { className: "catalog-progress", attrs: { "aria-label": "Reconciliation progress" } }));
    } else {
      nodes.push(counts);
    }
    if (run.error) nodes.push(el("p", { className: "error-text", text: String(run.error) }));
    if (note) nodes.push(el("p", { className: "muted small", text: note }));
    reconcileBox.replaceChildren(...nodes);
  }

  /** Poll the history while the run is in progress (there is no GET of one run). */
  async function watchReconcile(initial) {
    if (reconcileWatching) return;
    const mine = session;
    const deadline = Date.now() + POLL_LIMIT_MS;
    reconcileWatching = true;
    reconcileButton.disabled = true;
    let current = initial;
    try {
      while (current.status === "running") {
        renderReconcile(current);
        await sleep(POLL_INTERVAL_MS);
        if (mine !== session) return;
        if (Date.now() >= deadline) {
          renderReconcile(current, "Still running after 10 minutes; stopped watching. Press Refresh later.");
          return;
        }
        try {
          const body = await api("/reconciliations", { params: { page: "1", limit: "10" } });
          const found = objects(body.reconciliations).find((r) => r.id === current.id);
          if (found) current = found;
        } catch (err) {
          if (err instanceof SignedOut) return;
          renderReconcile(current, "Could not check progress (" + err.message + "); retrying.");
          continue;
        }
      }
      renderReconcile(current);
    } finally {
      if (mine === session) {
        reconcileWatching = false;
        reconcileButton.disabled = false;
        refreshAfterSync();
      }
    }
  }

  reconcileButton.addEventListener("click", async () => {
    if (reconcileWatching) return;
    const mine = session;
    reconcileButton.disabled = true;
    delete reconcileBox.dataset.status;
    reconcileBox.replaceChildren(el("p", { className: "muted", text: "Reconciliation: starting…" }));
    let run = null;
    try {
      const body = await api("/orders/reconcile", { method: "POST" });
      run = body.reconciliation && typeof body.reconciliation === "object" ? body.reconciliation : null;
      if (!run) throw new ApiError(200, "bad_response", "The service did not describe the run.");
    } catch (err) {
      if (err instanceof SignedOut) return;
      reconcileBox.replaceChildren(errorText(err, "Reconciliation failed: "));
      if (mine === session) reconcileButton.disabled = false;
      return;
    }
    if (mine !== session) return;
    reconcileButton.disabled = false;
    watchReconcile(run);
  });

  /** After sign-in, keep showing a reconciliation that is already running. */
  async function resumeReconcileWatch() {
    try {
      const body = await api("/reconciliations", { params: { page: "1", limit: "1" } });
      const newest = objects(body.reconciliations)[0];
      if (newest && newest.status === "running") watchReconcile(newest);
    } catch {
      /* not essential: the button still works */
    }
  }

  $("refresh").addEventListener("click", () => {
    warehousesAsked = null;
    loadVocabulary()
      .then(() => {
        loadConnection();
        loadStats();
        reloadActive();
      })
      .catch(() => {});
  });

  // ---------------------------------------------------------------- detail dialogs

  function makeDialog(id) {
    const dialog = $(id + "-dialog");
    const state = {
      dialog,
      title: $(id + "-dialog-title"),
      body: $(id + "-detail"),
      result: $(id + "-dialog-result"),
      opener: null,
      openerRow: null,
      seq: 0,
      current: null,
    };
    dialog.querySelector(".dialog-close").addEventListener("click", () => dialog.close());
    dialog.addEventListener("close", () => {
      state.seq += 1;
      state.current = null;
      state.body.replaceChildren();
      setResult(state.result, "");
      // The table may have been drawn again meanwhile: then the same row's new button.
      let back = state.opener && state.opener.isConnected ? state.opener : null;
      if (!back && state.openerRow) back = document.querySelector(state.openerRow);
      if (back) back.focus();
      state.opener = null;
      state.openerRow = null;
    });
    return state;
  }

  const listingDialog = makeDialog("listing");
  const orderDialog = makeDialog("order");

  async function openDetail(d, path, key, opener, render, noun) {
    const seq = ++d.seq;
    d.opener = opener;
    const row = opener ? opener.closest("tr[data-id]") : null;
    d.openerRow = row ? "#" + row.closest("table").id + ' tr[data-id="' + CSS.escape(row.dataset.id) + '"] .open-detail' : null;
    d.current = null;
    d.title.textContent = label(noun);
    setResult(d.result, "");
    d.body.replaceChildren(el("p", { className: "muted", text: "Loading the " + noun + "…" }));
    if (!d.dialog.open) d.dialog.showModal();
    try {
      const body = await api(path);
      if (seq !== d.seq) return;
      const entity = body[key] && typeof body[key] === "object" ? body[key] : null;
      if (!entity) throw new ApiError(200, "bad_response", "The service did not send the " + noun + ".");
      render(entity);
    } catch (err) {
      if (err instanceof SignedOut || seq !== d.seq) return;
      d.body.replaceChildren(errorText(err, "Could not load the " + noun + ": "));
    }
  }

  /** Send one command from a dialog: disables `controls` meanwhile, shows the outcome. */
  async function act(d, { path, body, controls = [], done, failedPrefix, resultNode = d.result }) {
    const seq = d.seq;
    for (const c of controls) c.disabled = true;
    setResult(resultNode, "Sending…");
    try {
      const answer = await api(path, { method: "POST", body });
      if (seq !== d.seq) return null;
      return done(answer);
    } catch (err) {
      if (err instanceof SignedOut || seq !== d.seq) return null;
      setResult(resultNode, failedPrefix + ": " + err.message, "error", err);
      return null;
    } finally {
      for (const c of controls) c.disabled = false;
    }
  }

  function fact(term, ...values) {
    return el("div", {}, [el("dt", { text: term }), el("dd", {}, values)]);
  }

  function field(labelText, control, { hint = "" } = {}) {
    const wrap = el("div", { className: "field" }, [el("label", { text: labelText, attrs: { for: control.id } }), control]);
    if (hint) wrap.append(el("small", { className: "muted", text: hint }));
    return wrap;
  }

  function input(id, { type = "text", value = "", attrs = {} } = {}) {
    const node = el("input", { attrs: { id, type, autocomplete: "off", spellcheck: "false", ...attrs } });
    node.value = value;
    return node;
  }

  function select(id, options, { value = "", attrs = {} } = {}) {
    const node = el(
      "select",
      { attrs: { id, ...attrs } },
      options.map(([optionValue, text]) => el("option", { text, attrs: { value: optionValue } })),
    );
    if (value) node.value = value;
    return node;
  }

  // ---------------------------------------------------------------- the listing dialog

  function openListing(id, opener) {
    return openDetail(listingDialog, "/listings/" + enc(id), "listing", opener, renderListing, "listing");
  }

  function listingChanged(listing, text, kind = "ok") {
    if (!listing || typeof listing !== "object") {
      setResult(listingDialog.result, "Done, but the service did not send the listing back: press Refresh.", "warn");
      return;
    }
    renderListing(listing);
    setResult(listingDialog.result, text, kind);
    loadTable(tables.listings);
    loadStats();
  }

  function renderListing(l) {
    const d = listingDialog;
    d.current = l;
    d.title.textContent = str(l.title) || "Listing";
    const id = str(l.id);
    const nodes = [];

    nodes.push(
      el("dl", { className: "facts detail-facts" }, [
        fact("Product id", el("span", { className: "mono", text: str(l.localProductId) })),
        fact("TikTok product", l.externalProductId ? el("span", { className: "mono", text: String(l.externalProductId) }) : muted("not on TikTok yet")),
        fact("Status", statusBadge(l.status)),
        fact("Sync", statusBadge(l.syncStatus)),
        fact("Audit", auditBadge(l.auditStatus) || muted("none")),
        fact("Price", el("span", { className: "listing-price", text: formatMoney(l.price, l.currency) })),
        fact("Last synced", timeNode(l.lastSyncedAt, "Never")),
      ]),
    );
    if (l.needsRefresh === true) {
      nodes.push(el("p", { className: "notice notice-warn needs-refresh", text: REFRESH_NOTE_LISTING }));
    }
    if (l.error) {
      const tiktoks = TIKTOK_REASON_STATUSES.has(l.status);
      nodes.push(
        el("p", { className: "notice notice-bad listing-error" }, [
          el("strong", { text: tiktoks ? "TikTok's reason: " : "Last error: " }),
          el("span", { className: "reason-text", text: String(l.error) }),
        ]),
      );
    }
    const reasons = objects(l.auditReasons);
    if (reasons.length) {
      nodes.push(
        el("section", { className: "detail-section audit-reasons" }, [
          el("h3", { text: "Why TikTok's audit failed" }),
          el(
            "ul",
            {},
            reasons.map((r) => {
              const item = el("li", {}, [el("strong", { text: (str(r.position) || "Product") + ": " })]);
              item.append(strings(r.reasons).join("; ") || DASH);
              const suggestions = strings(r.suggestions);
              if (suggestions.length) item.append(el("span", { className: "suggestion", text: " Suggestion: " + suggestions.join("; ") }));
              return item;
            }),
          ),
        ]),
      );
    }
    nodes.push(stockSection(l));
    nodes.push(categorySection(l));

    const pushButton = button("Push to TikTok", "btn btn-primary");
    pushButton.id = "listing-push";
    pushButton.addEventListener("click", () =>
      act(d, {
        path: "/listings/" + enc(id) + "/push",
        controls: [pushButton],
        failedPrefix: "The push failed",
        done: (answer) => {
          const pushed = answer.listing && typeof answer.listing === "object" ? answer.listing : null;
          if (!pushed) listingChanged(null, "");
          else if (pushed.syncStatus === "synced") listingChanged(pushed, "Pushed to TikTok; TikTok audits it now.");
          else listingChanged(pushed, "TikTok did not take the listing: " + str(pushed.error), "error");
        },
      }),
    );
    nodes.push(el("div", { className: "dialog-actions" }, [pushButton]));
    d.body.replaceChildren(...nodes);
  }

  function pushState(what, pending, revision, pushed) {
    const item = el("li", {}, [
      el("strong", { text: what + ": " }),
      pending
        ? flag("waiting to be pushed", "info", "revision " + revision + ", TikTok has " + pushed)
        : revision
          ? flag("TikTok has it", "ok", "revision " + revision)
          : muted("never changed here"),
    ]);
    item.dataset.push = what.toLowerCase();
    item.dataset.pending = String(pending);
    return item;
  }

  function stockSection(l) {
    const d = listingDialog;
    const id = str(l.id);
    const section = el("section", { className: "detail-section stock-section", attrs: { "aria-labelledby": "stock-title" } }, [
      el("h3", { text: "Stock and price", attrs: { id: "stock-title" } }),
    ]);
    section.append(
      el("ul", { className: "push-state" }, [
        pushState("Stock", stockPending(l), num(l.stockRevision), num(l.stockPushedRevision)),
        pushState("Price", pricePending(l), num(l.priceRevision), num(l.pricePushedRevision)),
      ]),
    );
    if (l.pushError) {
      section.append(el("p", { className: "error-text push-error" }, [el("strong", { text: "Last push failed: " }), String(l.pushError)]));
    }

    const ours = objects(l.stock);
    const theirs = objects(l.tiktokStock);
    const ids = [...new Set([...ours.map((s) => str(s.warehouseId)), ...theirs.map((s) => str(s.warehouseId))])];
    if (ids.length) {
      const rows = ids.map((warehouseId) => {
        const mine = ours.find((s) => s.warehouseId === warehouseId);
        const copy = theirs.find((s) => s.warehouseId === warehouseId);
        const name = warehouseName(warehouseId);
        const row = el("tr", {}, [
          el("td", {}, [name ? el("span", { text: name + " " }) : null, el("small", { className: "mono muted", text: warehouseId })]),
          el("td", { className: "num col-quantity", text: mine ? formatCount(mine.quantity) : DASH }),
          el("td", { className: "num col-version", text: mine ? formatCount(mine.version) : DASH }),
          el("td", { className: "num col-tiktok", text: copy ? formatCount(copy.quantity) : DASH }),
        ]);
        row.dataset.warehouseId = warehouseId;
        return row;
      });
      section.append(
        el("div", { className: "table-wrap" }, [
          el("table", { className: "data-table compact stock-table" }, [
            el("caption", { className: "sr-only", text: "Stock per TikTok warehouse" }),
            el("thead", {}, [
              el("tr", {}, [
                el("th", { text: "TikTok warehouse", attrs: { scope: "col" } }),
                el("th", { className: "num", text: "Quantity", attrs: { scope: "col" } }),
                el("th", { className: "num", text: "Platform version", attrs: { scope: "col" } }),
                el("th", { className: "num", text: "TikTok's copy", attrs: { scope: "col" } }),
              ]),
            ]),
            el("tbody", {}, rows),
          ]),
        ]),
      );
    } else {
      section.append(el("p", { className: "muted", text: "No stock set for any warehouse yet." }));
    }
    const tiktokFacts = el("dl", { className: "facts tiktok-stock" }, [
      fact("TikTok's total", el("span", { className: "tiktok-total", text: formatCount(l.tiktokStockTotal) })),
      fact("Inventory status", el("span", { className: "inventory-status", text: str(l.inventoryStatus) || DASH })),
      fact("SKU status", el("span", { className: "sku-status", text: str(l.skuStatus) || DASH })),
    ]);
    section.append(tiktokFacts);

    // Set stock: the platform's warehouse ids, as TIKTOK_WAREHOUSE_MAP names them.
    const stockResult = el("p", { className: "result", attrs: { role: "status" } });
    const quantity = input("stock-quantity", { type: "number", attrs: { min: "0", step: "1", inputmode: "numeric", required: "" } });
    const warehouseSlot = el("div", { className: "field" }, [
      el("label", { text: "Platform warehouse", attrs: { for: "stock-warehouse" } }),
      input("stock-warehouse", { attrs: { required: "" } }),
    ]);
    const stockSubmit = el("button", { className: "btn", text: "Set stock", attrs: { type: "submit" } });
    const stockForm = el("form", { className: "inline-form", attrs: { id: "stock-form", novalidate: "", autocomplete: "off" } }, [
      warehouseSlot,
      field("Quantity", quantity),
      stockSubmit,
    ]);
    const mine = d.seq;
    getWarehouses()
      .then((result) => {
        if (mine !== d.seq || !result.list) return;
        const options = [];
        for (const w of result.list) {
          for (const platformId of strings(w.platformWarehouseIds)) {
            options.push([platformId, platformId + " → " + (str(w.name) || str(w.id))]);
          }
        }
        if (!options.length) return;
        const current = $("stock-warehouse");
        const chosen = current ? current.value : "";
        warehouseSlot.replaceChildren(
          el("label", { text: "Platform warehouse", attrs: { for: "stock-warehouse" } }),
          select("stock-warehouse", options, { value: chosen }),
        );
        for (const row of section.querySelectorAll("tr[data-warehouse-id]")) {
          const name = warehouseName(row.dataset.warehouseId);
          const cell = row.cells[0];
          if (name && cell.childNodes.length === 1) cell.prepend(el("span", { text: name + " " }));
        }
      })
      .catch(() => {});
    stockForm.addEventListener("submit", (event) => {
      event.preventDefault();
      const warehouseId = $("stock-warehouse").value.trim();
      const amount = quantity.value.trim();
      if (!warehouseId || !/^\d+$/.test(amount)) {
        setResult(stockResult, "Choose a warehouse and a whole number of units.", "error");
        return;
      }
      act(d, {
        path: "/listings/" + enc(id) + "/stock",
        body: { warehouseId, quantity: Number(amount) },
        controls: [stockSubmit],
        resultNode: stockResult,
        failedPrefix: "Could not set the stock",
        done: (answer) => listingChanged(answer.listing, "Stock set: " + amount + " in " + warehouseId + "; it goes to TikTok shortly."),
      });
    });

    // Set price: typed in the currency's major unit, sent as minor units.
    const currency = str(l.currency) || "USD";
    const exponent = exponentOf(currency);
    const priceResult = el("p", { className: "result", attrs: { role: "status" } });
    const amountInput = input("price-amount", {
      value: Number.isSafeInteger(l.price) && exponent !== null ? decimalText(l.price, exponent) : "",
      attrs: { inputmode: "decimal", required: "" },
    });
    const currencyInput = input("price-currency", { value: currency, attrs: { maxlength: "3", size: "4", autocapitalize: "characters" } });
    const priceSubmit = el("button", { className: "btn", text: "Set price", attrs: { type: "submit" } });
    const priceForm = el("form", { className: "inline-form", attrs: { id: "price-form", novalidate: "", autocomplete: "off" } }, [
      field("Price", amountInput),
      field("Currency", currencyInput),
      priceSubmit,
    ]);
    priceForm.addEventListener("submit", (event) => {
      event.preventDefault();
      const code = currencyInput.value.trim().toUpperCase();
      const parsed = parseAmount(amountInput.value, code);
      if (parsed.error) {
        setResult(priceResult, parsed.error, "error");
        return;
      }
      if (parsed.minor <= 0) {
        setResult(priceResult, "The price must be above zero.", "error");
        return;
      }
      const body = { price: parsed.minor };
      if (code !== currency) body.currency = code;
      act(d, {
        path: "/listings/" + enc(id) + "/price",
        body,
        controls: [priceSubmit],
        resultNode: priceResult,
        failedPrefix: "Could not set the price",
        done: (answer) =>
          listingChanged(answer.listing, "Price set to " + formatMoney(parsed.minor, code) + "; TikTok gets it once the product is active."),
      });
    });
    section.append(el("div", { className: "detail-forms" }, [el("div", {}, [stockForm, stockResult]), el("div", {}, [priceForm, priceResult])]));
    return section;
  }

  function categorySection(l) {
    const d = listingDialog;
    const id = str(l.id);
    const section = el("section", { className: "detail-section category-section", attrs: { "aria-labelledby": "category-title" } }, [
      el("h3", { text: "TikTok category, attributes and brand", attrs: { id: "category-title" } }),
    ]);
    const attributes = objects(l.attributes);
    section.append(
      el("dl", { className: "facts current-category" }, [
        fact("Category", l.categoryId ? el("span", { className: "mono", text: String(l.categoryId) }) : muted("the default")),
        fact("Brand", l.brandId ? el("span", { className: "mono", text: String(l.brandId) }) : muted("none")),
        fact(
          "Attributes",
          attributes.length
            ? el(
                "span",
                { className: "attribute-list" },
                [attributes.map((a) => str(a.id) + ": " + objects(a.values).map((v) => str(v.name) || str(v.id)).join(", ")).join("; ")],
              )
            : muted("none"),
        ),
      ]),
    );

    const categoryInput = input("listing-category", { value: str(l.categoryId), attrs: { inputmode: "numeric", maxlength: "50" } });
    const brandInput = input("listing-brand", { value: str(l.brandId), attrs: { maxlength: "50" } });
    const keyword = input("listing-category-keyword", { type: "search", attrs: { maxlength: "100" } });
    const findButton = button("Find");
    const results = el("div", { className: "category-results" });
    const loadButton = button("Load attributes");
    const fields = el("div", { className: "attribute-fields", attrs: { id: "listing-attribute-fields", "aria-live": "polite" } });
    const saveResult = el("p", { className: "result", attrs: { role: "status" } });
    const save = el("button", { className: "btn btn-primary", text: "Save category and attributes", attrs: { type: "submit" } });

    const loadFields = async () => {
      const categoryId = categoryInput.value.trim();
      if (!categoryId) {
        fields.replaceChildren(el("p", { className: "muted", text: "Without a category the service uses the default one." }));
        delete fields.dataset.categoryId;
        return;
      }
      const seq = d.seq;
      fields.replaceChildren(el("p", { className: "muted", text: "Loading the attributes of " + categoryId + "…" }));
      delete fields.dataset.categoryId;
      try {
        const list = await fetchAttributes(categoryId);
        if (seq !== d.seq) return;
        renderAttributeFields(fields, list, attributes);
        fields.dataset.categoryId = categoryId;
      } catch (err) {
        if (err instanceof SignedOut || seq !== d.seq) return;
        fields.replaceChildren(errorText(err, "Could not load the attributes: "));
      }
    };
    loadButton.addEventListener("click", loadFields);

    const find = async () => {
      const seq = d.seq;
      results.replaceChildren(el("p", { className: "muted", text: "Searching TikTok's categories…" }));
      try {
        const word = keyword.value.trim();
        const [body, all] = await Promise.all([
          api("/categories", { params: word ? { keyword: word } : null }),
          categoryIndex(),
        ]);
        if (seq !== d.seq) return;
        const categories = objects(body.categories);
        // A keyword's answer holds the matches only: their parents' names come from the tree.
        const byId = new Map([...all, ...categories].map((c) => [str(c.id), c]));
        const path = (c) => {
          const names = [str(c.name)];
          let parent = byId.get(str(c.parentId));
          for (let depth = 0; parent && depth < 20; depth += 1) {
            names.unshift(str(parent.name));
            parent = byId.get(str(parent.parentId));
          }
          return names.join(" › ");
        };
        const leaves = categories.filter((c) => c.isLeaf === true);
        if (!leaves.length) {
          results.replaceChildren(el("p", { className: "muted", text: "No leaf category matches; products go in leaves." }));
          return;
        }
        const choice = select(
          "listing-category-choice",
          [["", "Choose a category…"], ...leaves.map((c) => [str(c.id), path(c) + " (" + str(c.id) + ")"])],
        );
        choice.addEventListener("change", () => {
          if (!choice.value) return;
          categoryInput.value = choice.value;
          loadFields();
        });
        results.replaceChildren(field("Matching categories", choice));
      } catch (err) {
        if (err instanceof SignedOut || seq !== d.seq) return;
        results.replaceChildren(errorText(err, "Could not search the categories: "));
      }
    };
    findButton.addEventListener("click", find);
    keyword.addEventListener("keydown", (event) => {
      if (event.key === "Enter") {
        event.preventDefault();
        find();
      }
    });

    const form = el("form", { className: "category-form", attrs: { id: "listing-category-form", novalidate: "", autocomplete: "off" } }, [
      el("div", { className: "inline-form" }, [field("Find a category", keyword), findButton]),
      results,
      el("div", { className: "inline-form" }, [field("Category id", categoryInput), loadButton]),
      fields,
      el("div", { className: "inline-form" }, [field("Brand id (optional)", brandInput), save]),
      saveResult,
    ]);
    form.addEventListener("submit", (event) => {
      event.preventDefault();
      const body = {};
      const categoryId = categoryInput.value.trim();
      const brandId = brandInput.value.trim();
      if (categoryId !== str(l.categoryId)) body.categoryId = categoryId || null;
      if (brandId !== str(l.brandId)) body.brandId = brandId || null;
      let missing = [];
      // Attributes are sent only when their fields were loaded for this category: a failed
      // load must not wipe the listing's attributes.
      if (fields.dataset.categoryId && fields.dataset.categoryId === categoryId) {
        const chosen = collectAttributes(fields);
        body.attributes = chosen;
        missing = missingRequired(fields, chosen);
      }
      if (!Object.keys(body).length) {
        setResult(saveResult, "Nothing changed.", "");
        return;
      }
      act(d, {
        path: "/listings/" + enc(id) + "/update",
        body,
        controls: [save],
        resultNode: saveResult,
        failedPrefix: "Could not save",
        done: (answer) => {
          const text = missing.length
            ? "Saved, but TikTok requires " + missing.join(", ") + ": a push fails without it."
            : "Saved. Push the listing for TikTok to get it.";
          listingChanged(answer.listing, text, missing.length ? "warn" : "ok");
        },
      });
    });
    section.append(form);
    if (categoryInput.value) loadFields();
    return section;
  }

  /** One field per product attribute of the category: a choice of TikTok's values, and a text
   * box where TikTok takes a custom value. `current` pre-fills what the listing has. */
  function renderAttributeFields(container, attributes, current) {
    const byId = new Map(attributes.map((a) => [str(a.id), a]));
    const product = attributes.filter((a) => a.type !== "SALES_PROPERTY");
    const sales = attributes.length - product.length;
    const nodes = [];
    for (const a of product) {
      const attributeId = str(a.id);
      const need = requirement(a, byId);
      const have = objects((current.find((c) => c.id === attributeId) || {}).values);
      const wrap = el("div", { className: "attr-field" });
      wrap.dataset.attributeId = attributeId;
      wrap.dataset.requirement = need.text;
      if (need.conditions) wrap.dataset.conditions = JSON.stringify(need.conditions);
      const mark = flag(need.text, need.required ? "bad" : need.conditions ? "warn" : "neutral");
      mark.classList.add("requirement");
      const values = objects(a.values);
      const controlId = "attr-" + attributeId.replace(/[^\w-]/g, "_");
      wrap.append(el("label", { attrs: { for: controlId } }, [str(a.name) + " ", mark]));
      if (values.length) {
        const options = a.multiple === true ? [] : [["", "Not set"]];
        for (const v of values) options.push([str(v.id), str(v.name)]);
        const choice = select(controlId, options, { attrs: a.multiple === true ? { multiple: "" } : {} });
        const chosenIds = new Set(have.map((v) => str(v.id)).filter(Boolean));
        for (const option of choice.options) option.selected = chosenIds.has(option.value);
        if (a.multiple !== true && !chosenIds.size) choice.value = "";
        wrap.append(choice);
      }
      if (a.customizable !== false || !values.length) {
        const custom = input(values.length ? controlId + "-custom" : controlId, {
          value: have.filter((v) => !v.id && v.name).map((v) => str(v.name)).join(", "),
          attrs: { maxlength: "200", placeholder: values.length ? "or a value of your own" : "" },
        });
        custom.classList.add("attr-custom");
        if (values.length) custom.setAttribute("aria-label", str(a.name) + ": a value of your own");
        wrap.append(custom);
      }
      nodes.push(wrap);
    }
    if (!product.length) nodes.push(el("p", { className: "muted", text: "This category has no product attributes." }));
    if (sales) {
      nodes.push(el("p", { className: "muted small", text: sales + " sales attribute" + (sales === 1 ? " is" : "s are") + " not set here: a listing is one SKU." }));
    }
    container.replaceChildren(...nodes);
  }

  function collectAttributes(container) {
    const chosen = [];
    for (const wrap of container.querySelectorAll(".attr-field")) {
      const values = [];
      const choice = wrap.querySelector("select");
      if (choice) for (const option of choice.selectedOptions) if (option.value) values.push({ id: option.value });
      const custom = wrap.querySelector("input.attr-custom");
      if (custom && custom.value.trim()) values.push({ name: custom.value.trim() });
      if (values.length) chosen.push({ id: wrap.dataset.attributeId, values });
    }
    return chosen;
  }

  /** Names of the attributes TikTok requires (outright, or by a value chosen) left empty. */
  function missingRequired(container, chosen) {
    const has = (attributeId, valueId) =>
      chosen.some((c) => c.id === attributeId && (valueId === undefined || c.values.some((v) => v.id === valueId)));
    const missing = [];
    for (const wrap of container.querySelectorAll(".attr-field")) {
      const attributeId = wrap.dataset.attributeId;
      let required = wrap.dataset.requirement === "required";
      if (wrap.dataset.conditions) {
        try {
          required = JSON.parse(wrap.dataset.conditions).some((c) => has(c.attributeId, c.valueId));
        } catch {
          required = false;
        }
      }
      if (required && !has(attributeId)) missing.push(wrap.querySelector("label").firstChild.textContent.trim());
    }
    return missing;
  }

  // ---------------------------------------------------------------- the order dialog

  const KIND_TITLES = { cancellation: "Cancellation request", return: "Return request", aftersales: "After-sales request" };
  const OPEN_STATUSES = new Set(["pending", "confirmed"]);

  function openOrder(id, opener) {
    return openDetail(orderDialog, "/orders/" + enc(id), "order", opener, renderOrder, "order");
  }

  function orderChanged(order, text, kind = "ok") {
    if (!order || typeof order !== "object") {
      setResult(orderDialog.result, "Done, but the service did not send the order back: press Refresh.", "warn");
      return;
    }
    renderOrder(order);
    setResult(orderDialog.result, text, kind);
    loadTable(tables.orders);
    loadStats();
  }

  function renderOrder(o) {
    const d = orderDialog;
    d.current = o;
    d.title.textContent = "Order " + str(o.externalOrderId);
    const currency = str(o.currency);
    const nodes = [];
    nodes.push(
      el("dl", { className: "facts detail-facts" }, [
        fact("Status", statusBadge(o.status)),
        fact("TikTok status", el("span", { className: "mono", text: str(o.externalStatus) || DASH })),
        fact("Customer", o.customerName ? document.createTextNode(String(o.customerName)) : muted()),
        fact("Placed", timeNode(o.createdAt)),
        fact("Tracking", trackingNode(o)),
      ]),
    );
    if (o.needsRefresh === true) nodes.push(el("p", { className: "notice notice-warn needs-refresh", text: REFRESH_NOTE_ORDER }));

    const refunded = num(o.refundedAmount);
    const settled = o.feesSettled === true;
    const money = (term, value, cls) => fact(term, el("span", { className: cls, text: value }));
    nodes.push(
      el("section", { className: "detail-section" }, [
        el("h3", { text: "Money" }),
        el("dl", { className: "facts money-facts" }, [
          money("Subtotal", formatMoney(o.subtotal, currency), "money-subtotal"),
          money("Shipping", formatMoney(o.shippingFee, currency), "money-shipping"),
          money("Total", formatMoney(o.total, currency), "money-total"),
          money("Refunded", refunded ? "−" + formatMoney(refunded, currency) : formatMoney(0, currency), "money-refunded"),
          money("Net of refunds", formatMoney(num(o.total) - refunded, currency), "money-net-of-refunds"),
          fact(
            "Platform fee",
            el("span", { className: "money-fee", text: formatMoney(o.platformFee, currency) + " " }),
            flag(settled ? "settled" : "pending", settled ? "ok" : "neutral"),
          ),
          fact(
            "Payout",
            Number.isSafeInteger(o.netAmount)
              ? el("span", { className: "money-payout", text: formatMoney(o.netAmount, currency) })
              : muted("pending: TikTok settles some days after delivery"),
          ),
        ]),
      ]),
    );

    const items = objects(o.items);
    if (items.length) {
      nodes.push(
        el("section", { className: "detail-section" }, [
          el("h3", { text: "Items" }),
          el(
            "ul",
            { className: "items" },
            items.map((i) => el("li", {}, [str(i.title) || DASH, " × " + num(i.quantity) + " at " + formatMoney(i.unitPrice, currency)])),
          ),
        ]),
      );
    }

    const requests = objects(o.reverseRequests);
    const open = requests.filter((r) => r.awaitingSeller === true);
    if (open.length) {
      nodes.push(
        el("section", { className: "detail-section requests-open" }, [
          el("h3", { text: "Waiting for your answer" }),
          ...open.map((r) => requestCard(o, r)),
        ]),
      );
    }
    const others = requests.filter((r) => r.awaitingSeller !== true);
    if (others.length) {
      const rows = others.map((r) => {
        const row = el("tr", {}, [
          el("td", { text: KIND_TITLES[r.kind] || str(r.kind) }),
          el("td", { className: "mono", text: str(r.id) }),
          el("td", { className: "mono", text: str(r.type) || DASH }),
          el("td", { className: "mono", text: str(r.status) }),
          el("td", { className: "wrap-text", text: str(r.reasonText) || str(r.reason) || DASH }),
        ]);
        row.dataset.requestId = str(r.id);
        return row;
      });
      nodes.push(
        el("section", { className: "detail-section" }, [
          el("h3", { text: "Other requests" }),
          el("div", { className: "table-wrap" }, [
            el("table", { className: "data-table compact requests-table" }, [
              el("thead", {}, [el("tr", {}, ["Kind", "Id", "Type", "TikTok status", "Reason"].map((h) => el("th", { text: h, attrs: { scope: "col" } })))]),
              el("tbody", {}, rows),
            ]),
          ]),
        ]),
      );
    }

    if (OPEN_STATUSES.has(o.status)) nodes.push(orderActions(o));
    d.body.replaceChildren(...nodes);
  }

  function requestCard(o, r) {
    const d = orderDialog;
    const kind = str(r.kind);
    const card = el("article", { className: "request" });
    card.dataset.requestId = str(r.id);
    card.dataset.kind = kind;
    card.append(
      el("h4", {}, [KIND_TITLES[kind] || "Request", " ", el("small", { className: "mono muted", text: str(r.type) })]),
      el("p", { className: "request-reason" }, [el("strong", { text: "Reason: " }), str(r.reasonText) || str(r.reason) || DASH]),
      el("p", { className: "request-next" }, [el("strong", { text: "TikTok waits for: " }), el("code", { text: str(r.nextAction) || DASH })]),
      el("p", { className: "request-deadline" }, [
        el("strong", { text: "Deadline: " }),
        r.deadline ? countdownNode(r.deadline) : muted("none given"),
        r.deadline ? el("span", { className: "muted" }, [" (then TikTok decides by itself, at ", timeNode(r.deadline), ")"]) : null,
      ]),
    );
    if (Number.isSafeInteger(r.refundTotal)) {
      card.append(el("p", {}, [el("strong", { text: "Refund: " }), formatMoney(r.refundTotal, str(r.currency) || str(o.currency))]));
    }
    if (kind !== "cancellation" && kind !== "return") {
      card.append(el("p", { className: "muted small", text: "Answer this request in TikTok's Seller Center." }));
      return card;
    }
    const area = el("div", { className: "request-form" });
    const approve = button("Approve…", "btn request-approve");
    const reject = button("Reject…", "btn request-reject");
    const buttons = el("div", { className: "button-row" }, [approve, reject]);
    const back = () => {
      area.replaceChildren();
      buttons.hidden = false;
      approve.focus();
    };
    const base = "/orders/" + enc(str(o.id)) + (kind === "cancellation" ? "/cancellation" : "/return");
    const noun = kind === "cancellation" ? "cancellation" : "return";

    approve.addEventListener("click", () => {
      buttons.hidden = true;
      const result = el("p", { className: "result", attrs: { role: "status" } });
      const keep = el("input", { attrs: { type: "checkbox", id: "keep-" + str(r.id) } });
      const confirm = el("button", { className: "btn btn-primary", text: "Approve " + noun, attrs: { type: "submit" } });
      const cancelButton = button("Back");
      cancelButton.addEventListener("click", back);
      const formNodes = [
        el("p", {
          text:
            kind === "cancellation"
              ? "Approve the buyer's cancellation? TikTok cancels the order and refunds the buyer."
              : "Approve the return? TikTok goes on with the refund or the return as the request says.",
        }),
      ];
      if (kind === "return") {
        formNodes.push(el("div", { className: "check" }, [keep, el("label", { text: "The buyer keeps the item (refund without taking it back)", attrs: { for: keep.id } })]));
      }
      formNodes.push(el("div", { className: "button-row" }, [confirm, cancelButton]), result);
      const form = el("form", { className: "decision-form", attrs: { novalidate: "" } }, formNodes);
      form.addEventListener("submit", (event) => {
        event.preventDefault();
        const body = { requestId: str(r.id) };
        if (kind === "return" && keep.checked) body.buyerKeepItem = true;
        act(d, {
          path: base + "/approve",
          body,
          controls: [confirm, cancelButton],
          resultNode: result,
          failedPrefix: "Not approved",
          done: (answer) => orderChanged(answer.order, label(noun) + " approved."),
        });
      });
      area.replaceChildren(form);
      confirm.focus();
    });

    reject.addEventListener("click", async () => {
      buttons.hidden = true;
      const result = el("p", { className: "result", attrs: { role: "status" } });
      const reasonId = "reject-reason-" + str(r.id);
      const reason = select(reasonId, [["", "Loading TikTok's reasons…"]]);
      reason.disabled = true;
      const comment = el("textarea", { attrs: { id: "reject-comment-" + str(r.id), maxlength: "500", rows: "2" } });
      const confirm = el("button", { className: "btn btn-danger", text: "Reject " + noun, attrs: { type: "submit" } });
      confirm.disabled = true;
      const cancelButton = button("Back");
      cancelButton.addEventListener("click", back);
      const form = el("form", { className: "decision-form", attrs: { novalidate: "" } }, [
        field("Reason", reason),
        field("Comment", comment, { hint: "optional, at most 500 characters" }),
        el("div", { className: "button-row" }, [confirm, cancelButton]),
        result,
      ]);
      form.addEventListener("submit", (event) => {
        event.preventDefault();
        if (!reason.value) {
          setResult(result, "Choose one of TikTok's reasons.", "error");
          return;
        }
        const body = { requestId: str(r.id), reason: reason.value };
        if (comment.value.trim()) body.comment = comment.value.trim();
        act(d, {
          path: base + "/reject",
          body,
          controls: [confirm, cancelButton],
          resultNode: result,
          failedPrefix: "Not rejected",
          done: (answer) => orderChanged(answer.order, label(noun) + " rejected."),
        });
      });
      area.replaceChildren(form);
      reason.focus();
      const seq = d.seq;
      try {
        const body = await api("/orders/" + enc(str(o.id)) + "/reject-reasons", { params: { requestId: str(r.id) } });
        if (seq !== d.seq) return;
        const reasons = objects(body.reasons);
        reason.replaceChildren(
          el("option", { text: reasons.length ? "Choose a reason…" : "TikTok offers no reason now", attrs: { value: "" } }),
          ...reasons.map((x) => el("option", { text: str(x.text) || str(x.name), attrs: { value: str(x.name) } })),
        );
        reason.disabled = false;
        confirm.disabled = !reasons.length;
      } catch (err) {
        if (err instanceof SignedOut || seq !== d.seq) return;
        reason.replaceChildren(el("option", { text: "No reasons", attrs: { value: "" } }));
        setResult(result, "Could not load TikTok's reasons: " + err.message, "error", err);
      }
    });
    card.append(buttons, area);
    return card;
  }

  function orderActions(o) {
    const d = orderDialog;
    const orderPath = "/orders/" + enc(str(o.id));
    const area = el("div", { className: "order-action-area" });
    const ship = button("Ship…", "btn btn-primary");
    ship.id = "order-ship";
    const cancel = button("Cancel order…", "btn btn-danger");
    cancel.id = "order-cancel";
    const buttons = el("div", { className: "button-row" }, [ship, cancel]);
    const back = (focus) => () => {
      area.replaceChildren();
      buttons.hidden = false;
      focus.focus();
    };

    ship.addEventListener("click", async () => {
      buttons.hidden = true;
      const result = el("p", { className: "result", attrs: { role: "status" } });
      const provider = select("ship-provider", [["", "Loading TikTok's carriers…"]]);
      provider.disabled = true;
      const carrier = input("ship-carrier", { attrs: { maxlength: "100" } });
      const carrierField = field("Carrier name", carrier, { hint: "the platform's name; TIKTOK_CARRIER_MAP or TikTok's list maps it" });
      carrierField.hidden = true;
      const tracking = input("ship-tracking", { attrs: { maxlength: "200", required: "" } });
      const trackingUrl = input("ship-tracking-url", { type: "url", attrs: { maxlength: "2000" } });
      const packageId = input("ship-package", { attrs: { maxlength: "200" } });
      const confirm = el("button", { className: "btn btn-primary", text: "Ship", attrs: { type: "submit" } });
      const backButton = button("Back");
      backButton.addEventListener("click", back(ship));
      provider.addEventListener("change", () => {
        carrierField.hidden = provider.value !== "other";
      });
      const form = el("form", { className: "decision-form ship-form", attrs: { novalidate: "", autocomplete: "off" } }, [
        el("div", { className: "inline-form" }, [field("Carrier", provider), carrierField]),
        el("div", { className: "inline-form" }, [
          field("Tracking number", tracking),
          field("Tracking URL (optional)", trackingUrl),
          field("Package id (one package only)", packageId),
        ]),
        el("div", { className: "button-row" }, [confirm, backButton]),
        result,
      ]);
      form.addEventListener("submit", (event) => {
        event.preventDefault();
        const body = { trackingNumber: tracking.value.trim() };
        if (!body.trackingNumber) {
          setResult(result, "Enter the tracking number.", "error");
          tracking.focus();
          return;
        }
        if (provider.value && provider.value !== "other") body.shippingProviderId = provider.value;
        else if (carrier.value.trim()) body.carrier = carrier.value.trim();
        else {
          setResult(result, "Choose the carrier.", "error");
          return;
        }
        if (packageId.value.trim()) body.packageId = packageId.value.trim();
        if (trackingUrl.value.trim()) body.trackingUrl = trackingUrl.value.trim();
        act(d, {
          path: orderPath + "/ship",
          body,
          controls: [confirm, backButton],
          resultNode: result,
          failedPrefix: "Not shipped",
          done: (answer) => orderChanged(answer.order, "Shipped with tracking number " + body.trackingNumber + "."),
        });
      });
      area.replaceChildren(form);
      tracking.focus();
      const seq = d.seq;
      try {
        const body = await api(orderPath + "/shipping-providers");
        if (seq !== d.seq) return;
        const providers = objects(body.providers);
        provider.replaceChildren(
          el("option", { text: "Choose a carrier…", attrs: { value: "" } }),
          ...providers.map((p) => el("option", { text: str(p.name) || str(p.id), attrs: { value: str(p.id) } })),
          el("option", { text: "Another carrier, by name…", attrs: { value: "other" } }),
        );
      } catch (err) {
        if (err instanceof SignedOut || seq !== d.seq) return;
        provider.replaceChildren(el("option", { text: "A carrier by name", attrs: { value: "other" } }));
        carrierField.hidden = false;
        setResult(result, "Could not load TikTok's carriers: " + err.message, "error", err);
      }
      provider.disabled = false;
    });

    cancel.addEventListener("click", async () => {
      buttons.hidden = true;
      const result = el("p", { className: "result", attrs: { role: "status" } });
      const reason = select("cancel-reason", [["", "Loading TikTok's reasons…"]]);
      reason.disabled = true;
      const confirm = el("button", { className: "btn btn-danger", text: "Cancel the order", attrs: { type: "submit" } });
      confirm.disabled = true;
      const backButton = button("Back");
      backButton.addEventListener("click", back(cancel));
      const form = el("form", { className: "decision-form cancel-form", attrs: { novalidate: "" } }, [
        el("p", { text: "The seller cancels the order on TikTok; the buyer is refunded. This cannot be undone." }),
        field("Reason", reason),
        el("div", { className: "button-row" }, [confirm, backButton]),
        result,
      ]);
      form.addEventListener("submit", (event) => {
        event.preventDefault();
        if (!reason.value) {
          setResult(result, "Choose one of TikTok's reasons.", "error");
          return;
        }
        act(d, {
          path: orderPath + "/cancel",
          body: { reason: reason.value },
          controls: [confirm, backButton],
          resultNode: result,
          failedPrefix: "Not cancelled",
          done: (answer) => orderChanged(answer.order, "The order is cancelled."),
        });
      });
      area.replaceChildren(form);
      reason.focus();
      const seq = d.seq;
      try {
        const body = await api(orderPath + "/cancel-reasons");
        if (seq !== d.seq) return;
        const reasons = objects(body.reasons);
        reason.replaceChildren(
          el("option", { text: reasons.length ? "Choose a reason…" : "TikTok allows no cancellation now", attrs: { value: "" } }),
          ...reasons.map((x) => el("option", { text: str(x.text) || str(x.name), attrs: { value: str(x.name) } })),
        );
        reason.disabled = false;
        confirm.disabled = !reasons.length;
      } catch (err) {
        if (err instanceof SignedOut || seq !== d.seq) return;
        reason.replaceChildren(el("option", { text: "No reasons", attrs: { value: "" } }));
        setResult(result, "Could not load TikTok's reasons: " + err.message, "error", err);
      }
    });

    return el("section", { className: "detail-section order-actions" }, [el("h3", { text: "Act on the order" }), buttons, area]);
  }

  // ---------------------------------------------------------------- reset

  function clearData() {
    statsSeq += 1;
    categorySeq += 1;
    for (const d of [listingDialog, orderDialog]) if (d.dialog.open) d.dialog.close();
    for (const t of Object.values(tables)) {
      t.seq += 1;
      t.page = 1;
      t.total = null;
      for (const s of t.selects) s.value = "";
      t.tbody.replaceChildren();
      t.wrap.removeAttribute("aria-busy");
      updatePager(t);
    }
    for (const node of statNodes()) {
      node.textContent = DASH;
      delete node.dataset.value;
      delete node.dataset.currency;
    }
    $("money-table").tBodies[0].replaceChildren();
    $("money-table").hidden = true;
    $("money-note").hidden = true;
    showMessage($("stats-error"), "");
    showMessage($("vocabulary-error"), "");
    const card = $("connection");
    connectionStatus = "";
    delete card.dataset.state;
    delete card.dataset.reauthorize;
    $("connection-status").textContent = "Checking connection…";
    $("connection-badge").hidden = true;
    $("connection-badge").textContent = "";
    $("connection-shop").textContent = DASH;
    $("connection-appkey").textContent = DASH;
    $("connection-detail").replaceChildren();
    $("reauth").hidden = true;
    $("auth-code").value = "";
    setResult($("connection-result"), "");
    setResult($("webhooks-result"), "");
    renderWebhooks(null);
    syncMessage.textContent = "";
    syncMessage.className = "sync-message";
    for (const box of [jobBox, catalogBox, reconcileBox]) {
      box.replaceChildren();
      delete box.dataset.status;
    }
    catalogWatching = false;
    reconcileWatching = false;
    warehouses = null;
    warehousesAsked = null;
    categoriesLoaded = false;
    categoryTreeAsked = null;
    $("category-keyword").value = "";
    $("category-tree").replaceChildren();
    $("category-attributes").replaceChildren();
    $("warehouses-table").tBodies[0].replaceChildren();
    showMessage($("warehouses-message"), "");
    showMessage($("categories-message"), "");
    for (const id of ["sync-products", "sync-orders", "sync-catalog", "reconcile", "webhooks-register", "reauth-submit"]) $(id).disabled = false;
    selectTab(tabs.listings);
  }

  // ---------------------------------------------------------------- start

  if (getToken()) {
    signinSection.hidden = true;
    boot.hidden = false;
    enter();
  } else {
    showSignin();
  }
})();
