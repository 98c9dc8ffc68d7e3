// Compute pages: the Create VM form posts JSON to the REST API and shows problems inline,
// then follows the create operation to its end in the status line.
(() => {
  "use strict";

  const form = document.querySelector("form[data-testid=create-vm-form]");
  if (!form || !window.NovaCron) return;
  const { api, insert, toast } = window.NovaCron;
  const errorBox = form.querySelector("[data-testid=create-error]");
  const status = form.querySelector("[data-testid=create-status]");
  const submit = form.querySelector("button[type=submit]");
  const NUMBERS = new Set(["vcpus", "memory_mib", "disk_gib"]);
  const TERMINAL = new Set(["succeeded", "failed", "cancelled"]);
  const POLL_MS = 2000;
  const NAME_RULE = "Use letters, digits, '.', '_' or '-', starting with a letter or digit, at most 63 characters.";

  // -- the create operation, followed to its end ------------------------------------------

  // Events bring the operation's end at once; polling covers an event that came before
  // the POST's answer, or a stream that is down.
  let followed = null; // {id, name, timer}

  function setStatus(text, tone = "") {
    status.textContent = text;
    if (tone) status.dataset.tone = tone;
    else delete status.dataset.tone;
  }

  function unfollow() {
    if (followed) clearInterval(followed.timer);
    followed = null;
  }

  function showOperation(op) {
    if (!followed || op.id !== followed.id || !TERMINAL.has(op.state)) return;
    const { name } = followed;
    unfollow();
    if (op.state === "succeeded") setStatus(`${name} is running.`, "ok");
    else if (op.state === "cancelled") setStatus(`Creating ${name} was cancelled.`, "bad");
    else setStatus(`Could not create ${name}: ${op.error || "the operation failed"}`, "bad");
  }

  async function check(id) {
    try {
      showOperation(await api("GET", `/api/v1/operations/${encodeURIComponent(id)}`));
    } catch {
      // Offline or gone: the next poll or event decides.
    }
  }

  function follow(op, name) {
    unfollow();
    setStatus(`Creating ${name} (operation ${op.id})…`);
    followed = { id: op.id, name, timer: setInterval(() => check(op.id), POLL_MS) };
    showOperation(op);
    if (followed) check(op.id);
  }

  document.addEventListener("novacron:event", (ev) => {
    const { kind, event } = ev.detail || {};
    if (kind !== "operation.updated" || !event) return;
    showOperation({ id: event.object_id, ...(event.data || {}) });
  });

  // -- the form ---------------------------------------------------------------------------

  function clearErrors() {
    errorBox.hidden = true;
    errorBox.textContent = "";
    for (const el of form.querySelectorAll("[data-error-for]")) el.textContent = "";
    for (const el of form.querySelectorAll("[aria-invalid]")) el.removeAttribute("aria-invalid");
  }

  function payload() {
    const body = {};
    for (const [name, raw] of new FormData(form).entries()) {
      const value = String(raw).trim();
      if (NUMBERS.has(name)) body[name] = value === "" ? null : Number(value);
      else if (value !== "" || name === "name") body[name] = value;
    }
    return body;
  }

  // Pydantic's message for a name is its regular expression: say it in words.
  function fieldMessage(field, fe) {
    if (field === "name" && fe.type === "string_pattern_mismatch") {
      const value = form.elements.namedItem("name").value.trim();
      return value ? `Invalid name. ${NAME_RULE}` : "Enter a name.";
    }
    return String(fe.msg || "invalid value");
  }

  // problem+json: {detail, errors: [{loc: ["body", "name"], msg}]} → messages under fields.
  function showProblem(err) {
    const problem = err.problem || {};
    let placed = 0;
    for (const fe of problem.errors || []) {
      const loc = (fe.loc || []).filter((p) => p !== "body");
      const field = String(loc[0] ?? fe.field ?? "");
      const slot = field && form.querySelector(`[data-error-for="${CSS.escape(field)}"]`);
      if (!slot) continue;
      const msg = fieldMessage(field, fe);
      slot.textContent = slot.textContent ? `${slot.textContent}; ${msg}` : msg;
      const input = form.elements.namedItem(field);
      if (input && input.setAttribute) input.setAttribute("aria-invalid", "true");
      placed += 1;
    }
    errorBox.textContent = placed
      ? "Check the highlighted fields."
      : problem.detail || err.message || "The request failed.";
    errorBox.hidden = false;
    if (!placed && !problem.detail) toast(err.message);
  }

  form.addEventListener("submit", async (ev) => {
    ev.preventDefault();
    clearErrors();
    const body = payload();
    submit.disabled = true;
    unfollow();
    setStatus("Submitting…");
    try {
      const op = await api("POST", "/api/v1/vms", body);
      follow(op, body.name);
      form.elements.namedItem("name").value = "";
      // The event stream inserts the row too; this makes it appear without waiting for it.
      insert("vm", op.target_id, "");
    } catch (err) {
      setStatus("");
      showProblem(err);
    } finally {
      submit.disabled = false;
    }
  });
})();
