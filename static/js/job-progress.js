// Live progress for a background job page: polls the job's status until it finishes.
(function () {
  const box = document.querySelector("[data-status-url]");
  if (!box || box.dataset.finished === "1") return;
  const bar = box.querySelector("progress");
  const set = (sel, text) => { const el = box.querySelector(sel); if (el) el.textContent = text; };
  async function poll() {
    try {
      const resp = await fetch(box.dataset.statusUrl, { headers: { Accept: "application/json" } });
      if (!resp.ok) throw new Error(resp.status);
      const s = await resp.json();
      bar.value = s.percent;
      bar.textContent = s.percent + "%";
      set(".job-status", s.status_display); set(".job-done", s.done);
      set(".job-total", s.total); set(".job-percent", s.percent);
      if (s.finished) { window.location.reload(); return; }
    } catch (e) { /* keep polling: the worker may just be busy */ }
    setTimeout(poll, 1000);
  }
  setTimeout(poll, 800);
})();
