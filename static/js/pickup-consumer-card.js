// The consumer's card page: only the delivery details of the chosen way (online / in store) show.
(function () {
  function sync() {
    const checked = document.querySelector('input[name="kind"]:checked');
    const kind = checked ? checked.value : "";
    document.querySelectorAll(".c-when").forEach(function (el) {
      el.hidden = !el.classList.contains("c-when-" + kind);
    });
  }
  document.querySelectorAll('input[name="kind"]').forEach(function (r) {
    r.addEventListener("change", sync);
  });
  sync();
})();
