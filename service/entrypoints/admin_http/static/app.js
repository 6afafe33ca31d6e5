// TikTok Shop admin page.
//
// Safety rule for this file: every value that came from the API is put into the page with
// textContent, createTextNode, append(string) or a property (href, dateTime); nothing from
// the API is ever parsed as markup.
"use strict";

(() => {
  const API = "/admin/tiktok-shop";
  const TOKEN_KEY = "tiktokShop.adminToken";
  const PAGE_SIZE = 20;
  const POLL_INTERVAL_MS = 1000;
  const POLL_LIMIT_MS = 10 * 60 * 1000;
  const ACTIVE_SYNC = new Set(["pending", "syncing"]);

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

  class ApiError extends Error {
    constructor(status, code, message, fields) {
      super(message);
      this.name = "ApiError";
      this.status = status;
      this.code = code;
      this.fields = fields || [];
    }

    static fromResponse(status, body) {
      let message = "";
      let code = "http_" + status;
      let fields = [];
      if (body && typeof body === "object") {
        if (typeof body.error === "string") message = body.error;
        else if (typeof body.message === "string") message = body.message;
        else if (typeof body.detail === "string") message = body.detail;
        if (typeof body.code === "string") code = body.code;
        if (Array.isArray(body.fields)) {
          fields = body.fields.filter((f) => f && typeof f === "object");
        }
      }
      if (!message) message = "The request failed (HTTP " + status + ").";
      const details = fields
        .map((f) => [f.field, f.message].filter((x) => typeof x === "string" && x).join(": "))
        .filter(Boolean);
      if (details.length) message += " (" + details.join("; ") + ")";
      return new ApiError(status, code, message, fields);
    }
  }

  async function api(path, { method = "GET", params = null } = {}) {
    const token = getToken();
    const started = session;
    if (!token) throw new SignedOut();
    let url = API + path;
    if (params) url += "?" + new URLSearchParams(params).toString();

    let res;
    try {
      res = await fetch(url, {
        method,
        headers: { Authorization: "Bearer " + token, Accept: "application/json" },
        cache: "no-store",
        credentials: "same-origin",
        redirect: "error",
      });
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

    let body = null;
    try {
      const text = await res.text();
      body = text ? JSON.parse(text) : null;
    } catch {
      body = null;
    }
    if (started !== session) throw new SignedOut();

    if (!res.ok) throw ApiError.fromResponse(res.status, body);
    if (!body || typeof body !== "object") {
      throw new ApiError(res.status, "bad_response", "The service sent an answer this page cannot read.");
    }
    return body;
  }

  const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

  // ---------------------------------------------------------------- formatting helpers

  function el(tag, { className = "", text = null, attrs = null } = {}, children = []) {
    const node = document.createElement(tag);
    if (className) node.className = className;
    if (text !== null && text !== undefined) node.textContent = String(text);
    if (attrs) for (const [k, v] of Object.entries(attrs)) node.setAttribute(k, String(v));
    for (const child of children) node.append(child); // strings become text nodes
    return node;
  }

  const DASH = "—";

  function muted(text = DASH) {
    return el("span", { className: "muted", text });
  }

  const moneyFormats = new Map();

  /** Integer minor units + ISO 4217 code -> the viewer's locale money text. */
  function formatMoney(minor, currency) {
    if (typeof minor !== "number" || !Number.isFinite(minor)) return DASH;
    const code = typeof currency === "string" ? currency.toUpperCase() : "";
    if (/^[A-Z]{3}$/.test(code)) {
      try {
        let fmt = moneyFormats.get(code);
        if (!fmt) {
          fmt = new Intl.NumberFormat(undefined, { style: "currency", currency: code });
          moneyFormats.set(code, fmt);
        }
        const digits = fmt.resolvedOptions().maximumFractionDigits;
        return fmt.format(minor / 10 ** digits);
      } catch {
        /* unknown currency: fall through */
      }
    }
    return (String(minor) + " " + code).trim();
  }

  function formatCount(value) {
    return typeof value === "number" && Number.isFinite(value) ? String(value) : DASH;
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

  const TONES = {
    ok: ["active", "synced", "delivered", "connected", "shipped"],
    info: ["pending", "syncing", "confirmed", "draft", "outdated"],
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

  function plural(n, one, many) {
    return n === 1 ? one : many;
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

  function showMessage(node, text) {
    node.textContent = text || "";
    node.hidden = !text;
  }

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
    session += 1; // abandons every call and the catalog poll of the old session
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
    try {
      settings = await api("/settings");
    } catch (err) {
      if (err instanceof SignedOut) return;
      settingsError = err;
    }
    if (mine !== session) return;
    showApp();
    if (settings) renderConnection(settings);
    else renderConnectionFailure(settingsError);
    loadStats();
    activateTab(activeTable, { focus: false });
    resumeCatalogWatch();
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

  function codeList(names) {
    const nodes = [];
    names.forEach((name, i) => {
      if (i > 0) nodes.push(i === names.length - 1 ? " and " : ", ");
      nodes.push(el("code", { text: name }));
    });
    return nodes;
  }

  /** The connection's last known status ("" when unknown). */
  let connectionStatus = "";

  function renderConnection(s) {
    const card = $("connection");
    const status = typeof s.status === "string" ? s.status : "";
    connectionStatus = status;
    card.dataset.state = status;
    $("connection-status").textContent = CONNECTION_HEADINGS[status] || "Unknown";

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
    } else if (status === "error") {
      detail.append(
        el("p", { className: "error-text connection-error", text: s.error ? String(s.error) : "TikTok Shop did not accept the request." }),
        el("p", {}, [
          "TikTok Shop access tokens expire and must be renewed: put a fresh token in ",
          el("code", { text: "TIKTOK_ACCESS_TOKEN" }),
          " and restart the service.",
        ]),
      );
    }
  }

  function renderConnectionFailure(err) {
    connectionStatus = "";
    $("connection").dataset.state = "unavailable";
    $("connection-status").textContent = "Status unavailable";
    $("connection-badge").hidden = true;
    $("connection-detail").replaceChildren(
      el("p", { className: "error-text", text: "Could not load the connection settings: " + err.message }),
    );
  }

  async function loadConnection() {
    try {
      renderConnection(await api("/settings"));
    } catch (err) {
      if (!(err instanceof SignedOut)) renderConnectionFailure(err);
    }
  }

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
      } else if (field === "revenueByCurrency") {
        const list = Array.isArray(value) ? value.filter((r) => r && typeof r === "object") : [];
        const others = list.filter((r) => r.currency !== stats.currency);
        node.textContent = others.length
          ? "By currency: " + list.map((r) => formatMoney(r.amount, r.currency)).join(" · ")
          : "";
        node.hidden = !others.length;
      } else {
        node.textContent = formatCount(value);
        node.dataset.value = typeof value === "number" ? String(value) : "";
      }
    }
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

  // ---------------------------------------------------------------- tables

  function listingRow(l) {
    const product = el("td", { className: "product" }, [
      el("span", { className: "title", text: l.title ?? "" }),
      el("small", { className: "muted sub", text: l.localProductId ?? "" }),
    ]);
    const error = l.error ? el("span", { className: "error-text", text: l.error }) : muted();
    const row = el("tr", {}, [
      product,
      el("td", {}, [statusBadge(l.status)]),
      el("td", {}, [statusBadge(l.syncStatus)]),
      el("td", { className: "nowrap" }, [timeNode(l.lastSyncedAt, "Never")]),
      el("td", { className: "wrap-text" }, [error]),
    ]);
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

  function orderRow(o) {
    return el("tr", {}, [
      el("td", { className: "nowrap" }, [el("span", { className: "mono", text: o.externalOrderId ?? "" })]),
      el("td", {}, [o.customerName ? document.createTextNode(o.customerName) : muted()]),
      el("td", {}, [statusBadge(o.status)]),
      el("td", { className: "num nowrap", text: formatMoney(o.total, o.currency) }),
      el("td", { className: "num nowrap", text: formatMoney(o.platformFee, o.currency) }),
      el("td", { className: "nowrap" }, [timeNode(o.createdAt)]),
      el("td", { className: "nowrap" }, [trackingNode(o)]),
    ]);
  }

  function makeTable(key, { path, empty, one, many, render, columns }) {
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
      tab: $("tab-" + key),
      panel: $("panel-" + key),
      select: $(key + "-status"),
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
      columns: 5,
    }),
    orders: makeTable("orders", {
      path: "/orders",
      empty: "No orders",
      one: "order",
      many: "orders",
      render: orderRow,
      columns: 7,
    }),
  };
  let activeTable = tables.listings;

  function messageRow(t, text, className) {
    const cell = el("td", { className: "table-message " + className, text });
    cell.colSpan = t.columns;
    t.tbody.replaceChildren(el("tr", {}, [cell]));
  }

  function updatePager(t, busy = false) {
    t.pageLabel.textContent = "Page " + t.page;
    t.prev.disabled = busy || t.page <= 1;
    t.next.disabled = busy || t.total === null || t.page * PAGE_SIZE >= t.total;
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
    if (t.select.value) params.status = t.select.value;
    try {
      const body = await api(t.path, { params });
      if (seq !== t.seq) return;
      const rows = Array.isArray(body[t.key]) ? body[t.key].filter((r) => r && typeof r === "object") : [];
      const total = typeof body.total === "number" && Number.isFinite(body.total) ? body.total : rows.length;
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
      messageRow(t, "Could not load " + t.many + ": " + err.message, "error-text");
    } finally {
      if (seq === t.seq) {
        t.wrap.removeAttribute("aria-busy");
        updatePager(t);
      }
    }
  }

  function activateTab(t, { focus = true } = {}) {
    activeTable = t;
    for (const other of Object.values(tables)) {
      const selected = other === t;
      other.tab.setAttribute("aria-selected", String(selected));
      other.tab.tabIndex = selected ? 0 : -1;
      other.panel.hidden = !selected;
    }
    if (focus) t.tab.focus();
    loadTable(t);
  }

  const tabOrder = Object.values(tables);
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
    t.select.addEventListener("change", () => loadTable(t, 1));
    t.prev.addEventListener("click", () => {
      if (t.page > 1) loadTable(t, t.page - 1);
    });
    t.next.addEventListener("click", () => {
      if (t.total !== null && t.page * PAGE_SIZE < t.total) loadTable(t, t.page + 1);
    });
  }

  // ---------------------------------------------------------------- sync actions

  const syncMessage = $("sync-message");
  const catalogBox = $("catalog-sync");
  const catalogButton = $("sync-catalog");
  let catalogWatching = false;

  function setSyncMessage(text, kind = "") {
    syncMessage.textContent = text;
    syncMessage.className = "sync-message" + (kind ? " " + kind : "");
  }

  function refreshAfterSync() {
    loadStats();
    loadTable(activeTable);
  }

  async function runSimpleSync(button, path, label, one, many) {
    const mine = session;
    button.disabled = true;
    setSyncMessage("Syncing " + many + "…");
    try {
      const body = await api(path, { method: "POST" });
      const n = typeof body.synced === "number" ? body.synced : Number(body.synced) || 0;
      setSyncMessage("Synced " + n + " " + plural(n, one, many), "ok");
    } catch (err) {
      if (err instanceof SignedOut) return;
      setSyncMessage(label + " failed: " + err.message, "error-text");
    } finally {
      if (mine === session) button.disabled = false;
    }
    if (mine === session) refreshAfterSync();
  }

  $("sync-products").addEventListener("click", (event) =>
    runSimpleSync(event.currentTarget, "/products/sync", "Sync Products", "product", "products"),
  );
  $("sync-orders").addEventListener("click", (event) =>
    runSimpleSync(event.currentTarget, "/orders/sync", "Sync Orders", "order", "orders"),
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

  function num(v) {
    return typeof v === "number" && Number.isFinite(v) ? v : 0;
  }

  function renderCatalog(sync, note = "") {
    const total = num(sync.totalProducts);
    const synced = num(sync.syncedProducts);
    const failed = num(sync.failedProducts);
    const status = typeof sync.status === "string" ? sync.status : "";
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
      const bar = document.createElement("progress");
      bar.className = "catalog-progress";
      bar.setAttribute("aria-label", "Catalog sync progress");
      if (total > 0) {
        bar.max = total;
        bar.value = Math.min(total, synced + failed);
      }
      nodes.push(bar);
    }
    if (sync.error) nodes.push(el("p", { className: "error-text", text: String(sync.error) }));
    const failures = Array.isArray(sync.failures) ? sync.failures.filter((f) => f && typeof f === "object") : [];
    if (!active && failures.length) {
      const shown = failures.slice(0, 10);
      const list = el(
        "ul",
        { className: "failures" },
        shown.map((f) => el("li", {}, [el("span", { className: "mono", text: f.listingId ?? "" }), ": ", String(f.error ?? "")])),
      );
      if (failures.length > shown.length) list.append(el("li", { className: "muted", text: "and " + (failures.length - shown.length) + " more" }));
      nodes.push(list);
    }
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

  $("refresh").addEventListener("click", () => {
    loadConnection();
    loadStats();
    loadTable(activeTable);
  });

  // ---------------------------------------------------------------- reset

  function clearData() {
    statsSeq += 1;
    for (const t of Object.values(tables)) {
      t.seq += 1;
      t.page = 1;
      t.total = null;
      t.select.value = "";
      t.tbody.replaceChildren();
      t.wrap.removeAttribute("aria-busy");
      updatePager(t);
    }
    for (const node of statNodes()) {
      node.textContent = node.dataset.stat === "revenueByCurrency" ? "" : DASH;
      delete node.dataset.value;
      delete node.dataset.currency;
      if (node.dataset.stat === "revenueByCurrency") node.hidden = true;
    }
    showMessage($("stats-error"), "");
    const card = $("connection");
    connectionStatus = "";
    delete card.dataset.state;
    $("connection-status").textContent = "Checking connection…";
    $("connection-badge").hidden = true;
    $("connection-badge").textContent = "";
    $("connection-shop").textContent = DASH;
    $("connection-appkey").textContent = DASH;
    $("connection-detail").replaceChildren();
    syncMessage.textContent = "";
    syncMessage.className = "sync-message";
    catalogBox.replaceChildren();
    delete catalogBox.dataset.status;
    catalogWatching = false;
    for (const id of ["sync-products", "sync-orders", "sync-catalog"]) $(id).disabled = false;
    activeTable = tables.listings;
    for (const t of Object.values(tables)) {
      const selected = t === activeTable;
      t.tab.setAttribute("aria-selected", String(selected));
      t.tab.tabIndex = selected ? 0 : -1;
      t.panel.hidden = !selected;
    }
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
