// Compute pages: the Create VM form posts JSON to the REST API and shows problems inline.
(() => {
  "use strict";

  const form = document.querySelector("form[data-testid=create-vm-form]");
  if (!form || !window.NovaCron) return;
  const { api, insert, toast } = window.NovaCron;
  const errorBox = form.querySelector("[data-testid=create-error]");
  const status = form.querySelector("[data-testid=create-status]");
  const submit = form.querySelector("button[type=submit]");
  const NUMBERS = new Set(["vcpus", "memory_mib", "disk_gib"]);

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

  // problem+json: {detail, errors: [{loc: ["body", "name"], msg}]} → messages under fields.
  function showProblem(err) {
    const problem = err.problem || {};
    let placed = 0;
    for (const fe of problem.errors || []) {
      const loc = (fe.loc || []).filter((p) => p !== "body");
      const field = String(loc[0] ?? fe.field ?? "");
      const slot = field && form.querySelector(`[data-error-for="${CSS.escape(field)}"]`);
      if (!slot) continue;
      slot.textContent = slot.textContent ? `${slot.textContent}; ${fe.msg}` : fe.msg;
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
    status.textContent = "Submitting…";
    try {
      const op = await api("POST", "/api/v1/vms", body);
      status.textContent = `Creating ${body.name} (operation ${op.id})…`;
      form.elements.namedItem("name").value = "";
      // The event stream inserts the row too; this makes it appear without waiting for it.
      insert("vm", op.target_id, "");
    } catch (err) {
      status.textContent = "";
      showProblem(err);
    } finally {
      submit.disabled = false;
    }
  });
})();
