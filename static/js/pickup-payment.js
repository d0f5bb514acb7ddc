// A top-up order's page: polls the order's state until it is paid, then shows the new state.
(function () {
  const box = document.querySelector("[data-payment-status-url]");
  if (!box || box.dataset.paid === "1") return;
  async function poll() {
    try {
      const resp = await fetch(box.dataset.paymentStatusUrl, { headers: { Accept: "application/json" } });
      if (!resp.ok) throw new Error(resp.status);
      const s = await resp.json();
      const label = document.getElementById("payment-status");
      if (label) label.textContent = s.status_display;
      if (s.paid || s.status === "failed") { window.location.reload(); return; }
    } catch (e) { /* keep polling */ }
    setTimeout(poll, 2000);
  }
  setTimeout(poll, 2000);
})();
