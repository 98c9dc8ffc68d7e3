// Security pages and the sidebar's project switcher (loaded on every page by base.html).
// Needs live.js (window.NovaCron: api, refresh, insert, toast). No inline script anywhere.
//
// Markup contract (security/templates):
//   select[data-project-switcher]       POST /account/project, then reload in that project
//   form[data-api-form][data-api-url][data-api-method]
//                                       sends its fields as JSON to the REST API:
//     input[data-kind=int]              a number; empty is null (unlimited quota) …
//     [data-blank=omit]                 … or left out of the body when empty
//     input[data-kind=list]             words split on spaces and commas
//     input[type=checkbox]              true / false
//     input[data-same-as=NAME]          must equal field NAME; never sent
//   and on success: data-done (a toast), data-refresh (live.js keys, space-separated),
//   data-insert (a kind: the answer's id is inserted into that collection), data-reset,
//   data-show (token-secret | recovery-codes), data-then (reload | signed-out),
//   data-hide-on-success (a selector)
//   button[data-totp-setup]             fetches the two-factor set-up panel into [data-totp-panel]
//   button[data-audit-verify]           verifies the audit chain, shows the summary
//   button[data-copy=SELECTOR]          copies that element's text
//   button[data-reload]                 reloads the page
(() => {
  "use strict";

  if (!window.NovaCron) return;
  const { api, refresh, insert, toast } = window.NovaCron;

  function csrfToken() {
    const meta = document.querySelector('meta[name="csrf-token"]');
    return meta ? meta.content : "";
  }

  // -- the project switcher ---------------------------------------------------------------

  document.addEventListener("change", async (ev) => {
    const select = ev.target.closest("select[data-project-switcher]");
    if (!select) return;
    select.disabled = true;
    try {
      // The header names the project this request acts in: a stale cookie cannot block it.
      await fetchJson("POST", "/account/project", { project: select.value }, select.value);
      location.reload();
    } catch (err) {
      toast(err.message || String(err));
      select.disabled = false;
    }
  });

  async function fetchJson(method, url, payload, project) {
    const resp = await fetch(url, {
      method,
      credentials: "same-origin",
      headers: {
        Accept: "application/json",
        "Content-Type": "application/json",
        "X-CSRF-Token": csrfToken(),
        ...(project ? { "X-NovaCron-Project": project } : {}),
      },
      body: JSON.stringify(payload),
    });
    const data = await resp.json().catch(() => ({}));
    if (!resp.ok) throw Object.assign(new Error(data.detail || `${resp.status} ${resp.statusText}`), { problem: data, status: resp.status });
    return data;
  }

  // -- forms that call the API --------------------------------------------------------------

  function payload(form) {
    const body = {};
    for (const el of form.elements) {
      if (!el.name || el.disabled || el.dataset.sameAs !== undefined) continue;
      const raw = el.type === "password" ? el.value : String(el.value).trim();
      const omit = el.dataset.blank === "omit" && raw === "";
      if (el.type === "checkbox") body[el.name] = el.checked;
      else if (omit) continue;
      else if (el.dataset.kind === "int") body[el.name] = raw === "" ? null : Number(raw);
      else if (el.dataset.kind === "list") body[el.name] = raw.split(/[\s,]+/).filter(Boolean);
      else body[el.name] = raw;
    }
    return body;
  }

  function clearErrors(form) {
    const box = form.querySelector("[data-form-error]");
    if (box) { box.hidden = true; box.textContent = ""; }
    for (const el of form.querySelectorAll("[data-error-for]")) el.textContent = "";
    for (const el of form.querySelectorAll("[aria-invalid]")) el.removeAttribute("aria-invalid");
  }

  function fieldError(form, field, message) {
    const slot = form.querySelector(`[data-error-for="${CSS.escape(field)}"]`);
    if (!slot) return false;
    slot.textContent = slot.textContent ? `${slot.textContent}; ${message}` : message;
    const input = form.elements.namedItem(field);
    if (input && input.setAttribute) input.setAttribute("aria-invalid", "true");
    return true;
  }

  // problem+json {detail, errors: [{loc: ["body", "name"], msg}]}: messages under fields.
  function showProblem(form, err) {
    const problem = err.problem || {};
    let placed = 0;
    for (const fe of problem.errors || []) {
      const loc = (fe.loc || []).filter((p) => p !== "body");
      const field = String(loc[0] ?? fe.field ?? "");
      if (field && fieldError(form, field, String(fe.msg || "invalid value"))) placed += 1;
    }
    const box = form.querySelector("[data-form-error]");
    const text = placed ? "Check the highlighted fields." : problem.detail || err.message || "The request failed.";
    if (box) { box.textContent = text; box.hidden = false; } else toast(text);
  }

  function setStatus(form, text) {
    const status = form.querySelector("[data-form-status]");
    if (status) status.textContent = text;
  }

  const SHOW = {
    "token-secret": (data) => {
      const box = document.querySelector("[data-token-secret-box]");
      if (!box) return;
      box.querySelector("[data-token-secret]").textContent = data.token;
      box.querySelector("[data-token-secret-name]").textContent = data.name;
      box.hidden = false;
    },
    "recovery-codes": (data) => {
      const box = document.querySelector("[data-recovery-box]");
      if (!box) return;
      const list = box.querySelector("[data-recovery-codes]");
      list.replaceChildren(...data.recovery_codes.map((code) => {
        const li = document.createElement("li");
        li.textContent = code;
        return li;
      }));
      box.hidden = false;
      box.scrollIntoView({ block: "nearest" });
    },
  };

  const THEN = {
    reload: () => location.reload(),
    // A new password ends every session of the user, this one too.
    "signed-out": (form) => {
      setStatus(form, "Password changed. Every session has ended: sign in again with the new password.");
      setTimeout(() => location.assign("/login?next=" + encodeURIComponent(location.pathname)), 1500);
    },
  };

  document.addEventListener("submit", async (ev) => {
    const form = ev.target.closest("form[data-api-form]");
    if (!form) return;
    ev.preventDefault();
    clearErrors(form);
    setStatus(form, "");
    for (const el of form.querySelectorAll("[data-same-as]")) {
      const other = form.elements.namedItem(el.dataset.sameAs);
      if (other && other.value !== el.value) {
        fieldError(form, el.name, "does not match");
        return;
      }
    }
    const submit = form.querySelector("button[type=submit]");
    if (submit) submit.disabled = true;
    const d = form.dataset;
    try {
      const data = await api(d.apiMethod || "POST", d.apiUrl, payload(form));
      if (d.done) { toast(d.done, "ok"); setStatus(form, d.done); }
      if (d.show && SHOW[d.show]) SHOW[d.show](data || {});
      if (d.hideOnSuccess) document.querySelectorAll(d.hideOnSuccess).forEach((el) => { el.hidden = true; });
      if (d.reset !== undefined) form.reset();
      if (d.insert && data && data.id) insert(d.insert, data.id, "");
      for (const key of (d.refresh || "").split(" ").filter(Boolean)) refresh(key);
      if (d.then && THEN[d.then]) THEN[d.then](form);
    } catch (err) {
      showProblem(form, err);
    } finally {
      if (submit && submit.isConnected) submit.disabled = false;
    }
  });

  // -- two-factor set-up: the panel (secret, URI, QR code) is drawn by the server ---------------

  document.addEventListener("click", async (ev) => {
    const btn = ev.target.closest("button[data-totp-setup]");
    if (!btn) return;
    const panel = btn.closest("[data-totp-panel]");
    const error = panel.querySelector("[data-totp-error]");
    btn.disabled = true;
    try {
      const resp = await fetch("/account/totp/setup", {
        method: "POST",
        credentials: "same-origin",
        headers: { Accept: "text/html", "X-CSRF-Token": csrfToken() },
      });
      const text = await resp.text();
      if (!resp.ok) {
        let detail = `${resp.status} ${resp.statusText}`;
        try { detail = JSON.parse(text).detail || detail; } catch { /* not problem+json */ }
        throw new Error(detail);
      }
      const tpl = document.createElement("template");
      tpl.innerHTML = text.trim();
      panel.replaceChildren(tpl.content);
      const code = panel.querySelector("input[name=code]");
      if (code) code.focus();
    } catch (err) {
      error.textContent = err.message || String(err);
      error.hidden = false;
      btn.disabled = false;
    }
  });

  // -- audit chain verification -----------------------------------------------------------------

  document.addEventListener("click", async (ev) => {
    const btn = ev.target.closest("button[data-audit-verify]");
    if (!btn) return;
    const box = document.querySelector("[data-audit-verify-result]");
    btn.disabled = true;
    box.hidden = false;
    box.className = "alert alert-info";
    box.dataset.ok = "";
    box.textContent = "Verifying the whole chain…";
    try {
      const result = await api("GET", "/api/v1/audit/verify");
      box.className = `alert ${result.ok ? "alert-ok" : "alert-bad"}`;
      box.dataset.ok = String(result.ok);
      box.textContent = result.summary;
    } catch (err) {
      box.className = "alert alert-bad";
      box.textContent = err.message || String(err);
    } finally {
      btn.disabled = false;
    }
  });

  // After a secret was shown once: the page again, without it.
  document.addEventListener("click", (ev) => {
    if (ev.target.closest("button[data-reload]")) location.reload();
  });

  // -- copy a secret ------------------------------------------------------------------------------

  document.addEventListener("click", async (ev) => {
    const btn = ev.target.closest("button[data-copy]");
    if (!btn) return;
    const source = document.querySelector(btn.dataset.copy);
    if (!source) return;
    try {
      await navigator.clipboard.writeText(source.textContent.trim());
      toast("Copied", "ok");
    } catch {
      // No clipboard (an insecure origin): select the text for a manual copy.
      const range = document.createRange();
      range.selectNodeContents(source);
      const selection = getSelection();
      selection.removeAllRanges();
      selection.addRange(range);
    }
  });
})();
