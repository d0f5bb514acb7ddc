// Behaviour every page shares, without inline handlers (the Content-Security-Policy allows
// scripts from our own files only):
// - a form or button with data-confirm asks first; {choice} in the text becomes the label of
//   the form's element named by data-confirm-choice (e.g. the chosen batch action), {count}
//   the number of ticked boxes in the form;
// - a button with data-print prints the page;
// - a select with data-autosubmit submits its form when it changes;
// - a checkbox with data-select-all (a table's header) ticks or clears the table's selection boxes.
(function () {
  function confirmText(el, form) {
    let text = el.dataset.confirm;
    const name = el.dataset.confirmChoice;
    if (name && form) {
      const field = form.elements[name];
      const label = field && field.selectedOptions && field.selectedOptions[0];
      text = text.replace("{choice}", label ? label.textContent.trim() : "");
    }
    if (form && text.includes("{count}")) {
      const ticked = form.querySelectorAll("input[type=checkbox]:checked:not([data-select-all])");
      text = text.replace("{count}", String(ticked.length));
    }
    return text;
  }
  document.addEventListener("submit", function (event) {
    const form = event.target;
    const button = event.submitter;
    const asker = button && button.dataset.confirm ? button : form;
    if (asker.dataset && asker.dataset.confirm && !window.confirm(confirmText(asker, form))) {
      event.preventDefault();
    }
  });
  document.addEventListener("click", function (event) {
    const el = event.target.closest("[data-print]");
    if (el) window.print();
  });
  document.addEventListener("change", function (event) {
    if (event.target.matches("select[data-autosubmit]")) event.target.form.submit();
    if (event.target.matches("input[data-select-all]")) {
      const box = event.target;
      box.closest("table").querySelectorAll("tbody input[name=selection]").forEach(function (b) {
        b.checked = box.checked;
      });
    }
  });
})();
