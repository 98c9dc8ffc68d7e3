// VM page: the live serial console, and the Take snapshot form.
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

  const pre = document.querySelector("pre[data-console-src]");
  if (pre) consolePanel(pre);
  const form = document.querySelector("form[data-testid=snapshot-form]");
  if (form && window.NovaCron) snapshotForm(form);
})();
