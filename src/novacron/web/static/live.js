// NovaCron UI runtime: live updates over Server-Sent Events, API calls from buttons.
// First-party, dependency-free. Exposes window.NovaCron = {api, refresh, insert, toast}, and
// re-dispatches every stream event on document as "novacron:event" ({detail: {kind, event}}).
//
// Markup contract (rendered by the server, see web/templates and compute/templates):
//   [data-key="vm:ID"][data-src="/ui/..."]  a live element; on an event about vm:ID its
//                                           data-src is re-fetched and the element replaced
//   [data-collection="vm"][data-insert-src="/ui/vms/{id}/row"][data-match][data-limit]
//                                           a list that receives new objects of that kind
//   [data-also="host:ID"]                   keys to refresh too when this value changes
//   [data-gone]                             a row of a deleted object: fades out, then removed
//   [data-poll="15"]                        also re-fetched every 15 s (no event for it)
//   button[data-api-url][data-api-method][data-api-body][data-confirm][data-refresh]
//                                           calls the REST API (cookie auth)
(() => {
  "use strict";

  const body = document.body;
  const GONE_AFTER_MS = 2500;
  const TERMINAL = new Set(["succeeded", "failed", "cancelled"]);

  // -- toasts ---------------------------------------------------------------------------

  function toast(message, tone = "bad") {
    const box = document.getElementById("toasts");
    if (!box) return;
    const el = document.createElement("div");
    el.className = `toast toast-${tone}`;
    el.setAttribute("role", tone === "bad" ? "alert" : "status");
    el.dataset.testid = "toast";
    el.textContent = message;
    box.append(el);
    setTimeout(() => el.classList.add("leaving"), tone === "bad" ? 7000 : 3500);
    setTimeout(() => el.remove(), tone === "bad" ? 7600 : 4100);
  }

  // -- REST API -------------------------------------------------------------------------

  function toLogin() {
    const next = location.pathname + location.search;
    location.assign("/login" + (next === "/" ? "" : "?next=" + encodeURIComponent(next)));
  }

  function problemText(problem, resp) {
    if (problem && problem.detail) return String(problem.detail);
    if (problem && problem.title) return String(problem.title);
    return `${resp.status} ${resp.statusText}`.trim();
  }

  function csrfToken() {
    const meta = document.querySelector('meta[name="csrf-token"]');
    return meta ? meta.content : "";
  }

  // Calls the API with the session cookie; throws an Error carrying .problem and .status.
  async function api(method, url, payload) {
    const init = { method, credentials: "same-origin", headers: { Accept: "application/json" } };
    if (method !== "GET" && method !== "HEAD") init.headers["X-CSRF-Token"] = csrfToken();
    if (payload !== undefined) {
      init.headers["Content-Type"] = "application/json";
      init.body = JSON.stringify(payload);
    }
    const resp = await fetch(url, init);
    const text = await resp.text();
    let data = null;
    if (text) {
      try { data = JSON.parse(text); } catch { data = { detail: text.slice(0, 300) }; }
    }
    if (resp.status === 401) toLogin();
    if (!resp.ok) {
      const err = new Error(problemText(data, resp));
      err.problem = data || {};
      err.status = resp.status;
      throw err;
    }
    return data;
  }

  // -- fragments ------------------------------------------------------------------------

  function parseFragment(html) {
    const tpl = document.createElement("template");
    tpl.innerHTML = html.trim();
    return tpl.content.firstElementChild;
  }

  async function fetchFragment(src) {
    const resp = await fetch(src, { credentials: "same-origin", headers: { Accept: "text/html" } });
    if (resp.status === 401) { toLogin(); return null; }
    if (!resp.ok) return null;
    return parseFragment(await resp.text());
  }

  const bySelector = (attr, value) => `[${attr}="${CSS.escape(value)}"]`;

  // One fetch per source at a time; a request during a fetch schedules exactly one more,
  // so the last paint is never older than the last event.
  const inflight = new Map(); // src -> dirty
  async function reload(src) {
    if (inflight.has(src)) { inflight.set(src, true); return; }
    inflight.set(src, false);
    try {
      const fresh = await fetchFragment(src);
      if (fresh) {
        for (const old of document.querySelectorAll(bySelector("data-src", src))) {
          const node = fresh.cloneNode(true);
          old.replaceWith(node);
          settle(node, old);
        }
      }
    } catch {
      // Offline: the stream reconnects and replays what was missed.
    } finally {
      const dirty = inflight.get(src);
      inflight.delete(src);
      if (dirty) reload(src);
    }
  }

  const inserting = new Map(); // key -> dirty
  function refresh(key) {
    if (inserting.has(key)) inserting.set(key, true);
    const srcs = new Set();
    for (const el of document.querySelectorAll(bySelector("data-key", key))) {
      if (el.dataset.src) srcs.add(el.dataset.src);
    }
    srcs.forEach(reload);
  }

  // Adds a new object to every collection of its kind that wants it (and lacks it).
  // A collection with data-match takes only objects whose matchValue equals it (a host's
  // VMs, a VM's operations); with onlyMatched, collections without data-match take none.
  async function insert(kind, id, matchValue, onlyMatched = false) {
    const key = `${kind}:${id}`;
    if (inserting.has(key)) { inserting.set(key, true); return; }
    const boxes = [...document.querySelectorAll(bySelector("data-collection", kind))].filter(
      (box) => box.dataset.insertSrc
        && !box.querySelector(bySelector("data-key", key))
        && (box.dataset.match ? box.dataset.match === matchValue : !onlyMatched),
    );
    if (!boxes.length) return;
    inserting.set(key, false);
    try {
      for (const box of boxes) {
        const fresh = await fetchFragment(box.dataset.insertSrc.replace("{id}", encodeURIComponent(id)));
        if (!fresh || "gone" in fresh.dataset || box.querySelector(bySelector("data-key", key))) continue;
        box.prepend(fresh);
        settle(fresh, null);
        fresh.classList.add("entering");
        setTimeout(() => fresh.classList.remove("entering"), 1200);
        const limit = Number(box.dataset.limit || 0);
        if (limit) [...box.querySelectorAll(":scope > [data-key]")].slice(limit).forEach((el) => el.remove());
      }
    } catch {
      // see reload()
    } finally {
      const dirty = inserting.get(key);
      inserting.delete(key);
      if (dirty) refresh(key);
    }
  }

  // After a swap: related objects whose view changed (e.g. a VM placed on a host: the
  // host's capacity bars) are refreshed; a deleted object's row fades out of its list.
  function settle(node, old) {
    const before = old ? old.dataset.also || "" : "";
    const after = node.dataset.also || "";
    if (before !== after) {
      new Set([...before.split(" "), ...after.split(" ")].filter(Boolean)).forEach(refresh);
    }
    if (!("gone" in node.dataset) || !node.closest("[data-collection]")) return;
    setTimeout(() => {
      node.classList.add("leaving");
      setTimeout(() => node.remove(), 600);
    }, GONE_AFTER_MS);
  }

  // -- events -----------------------------------------------------------------------------

  // New rows come only from events that mean "new": a VM's first state, a new pending
  // operation, a VM arriving on the host a page is about, a host not listed on a page that
  // lists all hosts. Anything else about an object not on the page is not for this page.
  const onPage = (key) => document.querySelector(bySelector("data-key", key)) !== null;

  // Refresh what the page shows of an object (or what is being inserted); else insert it
  // when the event means it is new.
  function upsert(kind, id, isNew, matchValue = "", onlyMatched = false) {
    const key = `${kind}:${id}`;
    if (onPage(key) || inserting.has(key)) refresh(key);
    else if (isNew) insert(kind, id, matchValue, onlyMatched);
  }

  function onEvent(kind, ev) {
    const data = ev.data || {};
    const id = ev.object_id;
    if (kind === "vm.state_changed") {
      if (data.from === null) upsert("vm", id, true); // a VM just created
      else upsert("vm", id, data.to !== "deleted" && Boolean(data.host_id), data.host_id, true);
      if (data.host_id) refresh(`host:${data.host_id}`);
      refresh("fleet");
    } else if (kind === "host.state_changed") {
      upsert("host", id, true);
      refresh("fleet");
    } else if (kind === "operation.updated") {
      upsert("op", id, data.state === "pending", data.target_id);
      // A VM's views show its host (placed during its create) and its legal actions.
      if (data.target_type === "vm") upsert("vm", data.target_id, data.kind === "vm.create");
      if (data.target_type === "host") refresh(`host:${data.target_id}`);
      if (data.state === "pending" || TERMINAL.has(data.state)) refresh("fleet");
    }
  }

  const indicator = () => document.querySelector("[data-testid=live-indicator]");
  function setLive(state) {
    const el = indicator();
    if (!el) return;
    el.dataset.state = state;
    const text = { live: "Live", connecting: "Connecting…", offline: "Offline — retrying" }[state];
    el.querySelector(".live-text").textContent = text;
  }

  // The indicator follows the time since the stream was last seen open: while the server
  // is down the browser retries every few seconds (each retry an error event), so no
  // single error or retry may decide it. Offline after OFFLINE_AFTER_MS without an open
  // stream, live again as soon as one opens.
  const OFFLINE_AFTER_MS = 4000;
  const MAX_RETRY_MS = 10000;
  let retryMs = 1000;
  let source = null;
  let lastOpenAt = Date.now();

  function updateLive() {
    if (source && source.readyState === EventSource.OPEN) {
      lastOpenAt = Date.now();
      setLive("live");
    } else {
      setLive(Date.now() - lastOpenAt > OFFLINE_AFTER_MS ? "offline" : "connecting");
    }
  }

  function connect() {
    const after = body.dataset.eventsAfter;
    const url = "/api/v1/events/stream" + (after ? `?after=${encodeURIComponent(after)}` : "");
    const es = new EventSource(url, { withCredentials: true });
    source = es;
    updateLive();
    es.onopen = () => { retryMs = 1000; updateLive(); };
    es.addEventListener("ready", updateLive);
    es.onerror = () => {
      if (es.readyState === EventSource.CLOSED) {
        // The server refused the stream (e.g. 401, a proxy's 502): reconnect ourselves,
        // resuming where the page is.
        es.close();
        setTimeout(connect, retryMs);
        retryMs = Math.min(retryMs * 2, MAX_RETRY_MS);
      }
      // Else the browser retries on its own, sending Last-Event-ID.
      updateLive();
    };
    for (const kind of ["vm.state_changed", "host.state_changed", "operation.updated"]) {
      es.addEventListener(kind, (msg) => {
        if (msg.lastEventId) body.dataset.eventsAfter = msg.lastEventId;
        updateLive();
        let event;
        try { event = JSON.parse(msg.data); onEvent(kind, event); } catch (err) { console.error(err); }
        if (event) document.dispatchEvent(new CustomEvent("novacron:event", { detail: { kind, event } }));
      });
    }
  }

  // -- buttons that call the API ------------------------------------------------------------

  document.addEventListener("click", async (ev) => {
    const btn = ev.target.closest("button[data-api-url]");
    if (!btn || btn.disabled) return;
    ev.preventDefault();
    if (btn.dataset.confirm && btn.dataset.armed !== "1") {
      btn.dataset.armed = "1";
      btn.dataset.label = btn.textContent;
      btn.textContent = btn.dataset.confirm;
      btn.classList.add("armed");
      setTimeout(() => {
        if (btn.isConnected && btn.dataset.armed === "1") {
          btn.dataset.armed = "0";
          btn.textContent = btn.dataset.label;
          btn.classList.remove("armed");
        }
      }, 4000);
      return;
    }
    btn.dataset.armed = "0";
    btn.disabled = true;
    btn.classList.add("busy");
    try {
      const payload = btn.dataset.apiBody ? JSON.parse(btn.dataset.apiBody) : undefined;
      await api(btn.dataset.apiMethod || "POST", btn.dataset.apiUrl, payload);
      if (btn.dataset.done) toast(btn.dataset.done, "ok");
      if (btn.dataset.refresh) refresh(btn.dataset.refresh);
    } catch (err) {
      // 409: the page showed an action the object no longer allows (it changed since):
      // repaint it from the server, and say why the action was refused.
      const stale = err.status === 409 || err.status === 404;
      if (stale && btn.dataset.refresh) refresh(btn.dataset.refresh);
      toast(stale ? `${err.message} (this view was out of date: updated it)` : err.message || String(err));
      btn.disabled = false;
      btn.classList.remove("busy", "armed");
      if (btn.dataset.label) btn.textContent = btn.dataset.label;
    }
  });

  // Some values change without an event (a host's last heartbeat): [data-poll="seconds"].
  function poll() {
    if (document.visibilityState !== "visible") return;
    const now = Date.now();
    for (const el of document.querySelectorAll("[data-poll][data-src]")) {
      const every = Number(el.dataset.poll) * 1000;
      const last = Number(el.dataset.polledAt || now);
      if (!el.dataset.polledAt) el.dataset.polledAt = String(now);
      else if (now - last >= every) reload(el.dataset.src);
    }
  }

  window.NovaCron = { api, refresh, insert, toast };
  setInterval(poll, 1000);
  if ("eventsAfter" in body.dataset) {
    connect();
    setInterval(updateLive, 1000);
  }
})();
