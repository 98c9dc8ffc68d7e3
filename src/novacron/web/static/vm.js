// VM page: the live serial console, the Take snapshot form, and the Migrate form.
//
// Console: one plain read of the last 64 KiB (which also says, in X-Console-Offset, where
// the log ends), then a streamed GET with follow=true from exactly there, read from the
// response's ReadableStream. Every byte is counted, so a dropped stream resumes where it
// stopped: no gap, nothing twice. A problem answer (a driver without a console, a VM not
// on a host) is shown as a sentence; the panel tries again when the VM changes state.
// At most MAX_CHARS stay in the <pre>; it follows the output unless scrolled up.
(() => {
  "use strict";

  const TAIL_BYTES = 65536;
  const MAX_CHARS = 200 * 1024;
  const KEEP_CHARS = 160 * 1024;
  const RETRY_MS = [1000, 2000, 5000, 10000, 30000];
  const NAME_RULE = "Use letters, digits, '.', '_' or '-', starting with a letter or digit, at most 64 characters.";

  // -- text from the guest ---------------------------------------------------------------

  // Terminal control sequences (colours, cursor moves, titles) are dropped; so are control
  // characters other than newline and tab. A sequence cut by a chunk boundary waits.
  const ESCAPES = /\x1b(?:\[[0-?]*[ -/]*[@-~]|\][^\x07\x1b]*(?:\x07|\x1b\\)|[@-Z\\-_])/g;
  const CONTROLS = /[\x00-\x08\x0b-\x1f\x7f]/g;
  const UNFINISHED = /\x1b(?:\[[0-?]*[ -/]*|\][^\x07\x1b]*)?$/;

  function cleaner() {
    let carry = "";
    return (text) => {
      text = carry + text;
      carry = "";
      const cut = text.match(UNFINISHED);
      if (cut && cut[0].length < 256) {
        carry = cut[0];
        text = text.slice(0, cut.index);
      }
      return text.replace(ESCAPES, "").replace(/\r\n/g, "\n").replace(CONTROLS, "");
    };
  }

  // -- the console panel -------------------------------------------------------------------

  function consolePanel(pre) {
    const status = document.querySelector("[data-testid=console-status]");
    const src = pre.dataset.consoleSrc;
    const vmId = pre.dataset.vmId;
    let text = null; // the <pre>'s one Text node, made with the first output
    const decoder = new TextDecoder("utf-8");
    const clean = cleaner();
    let offset = null; // the byte offset after what is shown; null: not read yet
    let running = false;
    let retries = 0;
    let timer = null;
    let controller = null;
    let gone = false;

    function setStatus(state, message) {
      status.dataset.state = state;
      status.textContent = message;
    }

    function append(bytes) {
      const piece = clean(decoder.decode(bytes, { stream: true }));
      if (!piece) return;
      const atBottom = pre.scrollHeight - pre.scrollTop - pre.clientHeight < 30;
      if (!text) {
        text = document.createTextNode("");
        pre.append(text);
      }
      text.appendData(piece);
      if (text.length > MAX_CHARS) {
        let cut = text.length - KEEP_CHARS;
        const newline = text.data.indexOf("\n", cut);
        if (newline !== -1 && newline - cut < 4096) cut = newline + 1;
        text.deleteData(0, cut);
      }
      if (atBottom) pre.scrollTop = pre.scrollHeight;
    }

    // A problem+json answer as an Error with the server's sentence; .problem marks it.
    async function refused(resp) {
      let detail = "";
      try {
        const body = await resp.json();
        detail = body.detail || body.title || "";
      } catch {
        // not JSON: the status line says enough
      }
      if (resp.status === 401) detail = "your session ended: sign in again";
      const err = new Error(detail || `${resp.status} ${resp.statusText}`.trim());
      err.problem = true;
      return err;
    }

    async function get(url, signal) {
      const resp = await fetch(url, {
        credentials: "same-origin",
        headers: { Accept: "text/plain, application/problem+json" },
        signal,
      });
      if (!resp.ok) throw await refused(resp);
      return resp;
    }

    async function readTail(signal) {
      const resp = await get(`${src}?offset=-${TAIL_BYTES}&limit=${TAIL_BYTES}`, signal);
      const bytes = new Uint8Array(await resp.arrayBuffer());
      const after = Number(resp.headers.get("X-Console-Offset"));
      offset = Number.isFinite(after) ? after : bytes.byteLength;
      append(bytes);
    }

    async function follow(signal) {
      const resp = await get(`${src}?follow=true&offset=${offset}`, signal);
      setStatus("live", "Live");
      retries = 0;
      const reader = resp.body.getReader();
      for (;;) {
        const { value, done } = await reader.read();
        if (done) return;
        offset += value.byteLength;
        append(value);
      }
    }

    function retryLater(message) {
      const wait = RETRY_MS[Math.min(retries, RETRY_MS.length - 1)];
      retries += 1;
      setStatus("offline", `${message}: retrying in ${Math.round(wait / 1000)} s`);
      clearTimeout(timer);
      timer = setTimeout(connect, wait);
    }

    async function connect() {
      if (running || gone) return;
      running = true;
      clearTimeout(timer);
      controller = new AbortController();
      setStatus("connecting", "Connecting…");
      try {
        if (offset === null) await readTail(controller.signal);
        await follow(controller.signal);
        if (!gone) retryLater("The console stream ended");
      } catch (err) {
        if (gone || (err && err.name === "AbortError")) return;
        // Refused: retrying changes nothing until the VM does (see the event listener).
        if (err && err.problem) setStatus("unavailable", `Console unavailable: ${err.message}`);
        else retryLater("Disconnected");
      } finally {
        running = false;
      }
    }

    // The VM changed state (placed, started, moved, deleted): a refused console may work now.
    document.addEventListener("novacron:event", (ev) => {
      const { kind, event } = ev.detail || {};
      if (kind !== "vm.state_changed" || !event || event.object_id !== vmId) return;
      if ((event.data || {}).to === "deleted") {
        gone = true;
        clearTimeout(timer);
        if (controller) controller.abort();
        setStatus("unavailable", "The VM was deleted.");
        return;
      }
      if (!running && status.dataset.state === "unavailable") connect();
    });
    window.addEventListener("pagehide", () => controller && controller.abort());
    connect();
  }

  // -- the Take snapshot form --------------------------------------------------------------

  function snapshotForm(form) {
    const { api, refresh, toast } = window.NovaCron;
    const input = form.elements.namedItem("name");
    const submit = form.querySelector("button[type=submit]");
    const errorBox = document.querySelector("[data-testid=snapshot-error]");

    function showError(message) {
      errorBox.textContent = message;
      errorBox.hidden = !message;
      if (message) input.setAttribute("aria-invalid", "true");
      else input.removeAttribute("aria-invalid");
    }

    function explain(err) {
      const fieldErrors = (err.problem && err.problem.errors) || [];
      const onName = fieldErrors.find((fe) => (fe.loc || []).includes("name"));
      if (onName) return input.value.trim() ? `Invalid snapshot name. ${NAME_RULE}` : "Enter a name for the snapshot.";
      return err.message || "The request failed.";
    }

    form.addEventListener("submit", async (ev) => {
      ev.preventDefault();
      const name = input.value.trim();
      showError("");
      if (!name) {
        showError("Enter a name for the snapshot.");
        return;
      }
      submit.disabled = true;
      try {
        await api("POST", form.dataset.apiUrl, { name });
        toast(`Snapshot ${name} of ${form.dataset.vmName}: requested`, "ok");
        input.value = "";
        refresh(`vm:${form.dataset.vmId}`);
      } catch (err) {
        showError(explain(err));
      } finally {
        submit.disabled = false;
      }
    });
  }

  // -- the Migrate form ---------------------------------------------------------------------
  //
  // It lives in the migration panel, which live.js re-renders from the server on every
  // event about the VM (a running migration reports twice a second). What was typed is
  // kept in `draft` and put back into each new copy of the form, focus included.

  const MIGRATE_FORM = "form[data-testid=migrate-form]";

  function migrateCard(card) {
    const { api, refresh, toast } = window.NovaCron;
    const errorBox = card.querySelector("[data-testid=migrate-error]");
    const draft = {}; // field name -> value (checkbox: boolean)
    let focused = null; // name of the field that had focus

    function showError(message, field = null) {
      errorBox.textContent = message;
      errorBox.hidden = !message;
      const form = card.querySelector(MIGRATE_FORM);
      if (!form) return;
      for (const el of form.querySelectorAll("[aria-invalid]")) el.removeAttribute("aria-invalid");
      const input = field && form.elements.namedItem(field);
      if (input && input.setAttribute) input.setAttribute("aria-invalid", "true");
    }

    function remember(ev) {
      const el = ev.target;
      if (!el.name || !el.closest(MIGRATE_FORM)) return;
      draft[el.name] = el.type === "checkbox" ? el.checked : el.value;
    }

    function restore(form) {
      for (const [name, value] of Object.entries(draft)) {
        const el = form.elements.namedItem(name);
        if (!el || el.disabled) continue;
        if (el.type === "checkbox") el.checked = Boolean(value);
        else if (el.tagName !== "SELECT") el.value = value;
        else if ([...el.options].some((o) => o.value === value && !o.disabled)) el.value = value;
      }
      const el = focused && form.elements.namedItem(focused);
      if (el && !el.disabled && el.focus) el.focus();
    }

    card.addEventListener("input", remember);
    card.addEventListener("change", remember);
    card.addEventListener("focusin", (ev) => {
      if (ev.target.name && ev.target.closest(MIGRATE_FORM)) focused = ev.target.name;
    });
    card.addEventListener("focusout", (ev) => {
      // Focus lost to a re-render (the field left the page) is given back by restore().
      const el = ev.target;
      setTimeout(() => { if (el.isConnected && focused === el.name) focused = null; }, 0);
    });
    new MutationObserver(() => {
      const form = card.querySelector(MIGRATE_FORM);
      if (form && !form.dataset.restored) {
        form.dataset.restored = "1";
        restore(form);
      }
    }).observe(card, { childList: true, subtree: true });

    const labelOf = (form, name) => {
      const input = form.elements.namedItem(name);
      const label = input && input.closest("label");
      const span = label && label.querySelector("span");
      return span ? span.textContent : name;
    };

    // problem+json: a field's message with the field's label, else the server's sentence.
    function explain(form, err) {
      const fieldErrors = (err.problem && err.problem.errors) || [];
      for (const fe of fieldErrors) {
        const field = String((fe.loc || []).filter((p) => p !== "body")[0] ?? "");
        if (field && form.elements.namedItem(field)) {
          return [`${labelOf(form, field)}: ${fe.msg || "invalid value"}`, field];
        }
      }
      return [err.message || "The request failed.", null];
    }

    card.addEventListener("submit", async (ev) => {
      const form = ev.target.closest(MIGRATE_FORM);
      if (!form) return;
      ev.preventDefault();
      showError("");
      const fields = form.elements;
      const body = { allow_postcopy: fields.namedItem("allow_postcopy").checked };
      const to = fields.namedItem("to_host").value;
      if (to) body.to_host = to;
      for (const name of ["downtime_ms", "bandwidth_mib_s"]) {
        const raw = fields.namedItem(name).value.trim();
        if (raw === "") continue;
        const value = Number(raw);
        if (!Number.isFinite(value) || value <= 0) {
          showError(`${labelOf(form, name)}: enter a number greater than 0, or leave it blank.`, name);
          return;
        }
        body[name] = value;
      }
      const submit = form.querySelector("button[type=submit]");
      submit.disabled = true;
      const vmId = form.dataset.vmId;
      try {
        await api("POST", form.dataset.apiUrl, body);
        toast(`Migrate ${form.dataset.vmName}${to ? ` to ${to}` : ""}: requested`, "ok");
        delete draft.to_host; // the VM is about to leave its host: choose anew next time
        refresh(`vm:${vmId}`);
      } catch (err) {
        showError(...explain(form, err));
        // 409: the VM changed since the page showed the form (busy, stopped): repaint it.
        if (err.status === 409 || err.status === 404) refresh(`vm:${vmId}`);
      } finally {
        submit.disabled = false;
      }
    });
  }

  const pre = document.querySelector("pre[data-console-src]");
  if (pre) consolePanel(pre);
  const form = document.querySelector("form[data-testid=snapshot-form]");
  if (form && window.NovaCron) snapshotForm(form);
  const migration = document.querySelector("[data-testid=vm-migration-card]");
  if (migration && window.NovaCron) migrateCard(migration);
})();
