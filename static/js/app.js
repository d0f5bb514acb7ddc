// Behaviour every page shares, without inline handlers (the Content-Security-Policy allows
// scripts from our own files only). The words come from the page (#ui-text, translated there).
// - a form or button with data-confirm asks first, in a popover next to the button; {choice} in
//   the text becomes the label of the form's element named by data-confirm-choice (e.g. the
//   chosen batch action), {count} the number of ticked boxes in the form;
// - Django's messages show as toasts (top right); successes and notes fade after a while,
//   warnings and errors stay until closed;
// - selects of filter forms (GET forms with class "filters") and long selects become searchable
//   (tom-select), and so do multiple selects; a filter's empty choice reads 全部;
// - a file input shows our own button and the chosen file's name;
// - date inputs become a Chinese calendar (flatpickr, zh); a filter form's pair NAME_from /
//   NAME_to becomes one date-range picker that fills both;
// - the sidebar collapses to its icons (remembered in this browser) and its groups open and close;
// - a button with data-print prints the page;
// - a select with data-autosubmit submits its form when it changes;
// - a checkbox with data-select-all (a table's header) ticks or clears the table's selection boxes.
(function () {
  const words = (document.getElementById("ui-text") || { dataset: {} }).dataset;

  // ---- confirmation popover -------------------------------------------------------------
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

  let openPopover = null;

  function closePopover(returnFocus) {
    if (!openPopover) return;
    const { box, anchor } = openPopover;
    box.remove();
    openPopover = null;
    if (returnFocus && anchor && anchor.focus) anchor.focus();
  }

  function place(box, anchor) {
    const r = anchor.getBoundingClientRect();
    const width = box.offsetWidth;
    let left = r.left + window.scrollX;
    left = Math.max(8, Math.min(left, window.scrollX + document.documentElement.clientWidth - width - 8));
    let top = r.bottom + window.scrollY + 8;
    if (r.bottom + box.offsetHeight + 16 > window.innerHeight && r.top > box.offsetHeight + 16) {
      top = r.top + window.scrollY - box.offsetHeight - 8;
      box.classList.add("above");
    }
    box.style.left = left + "px";
    box.style.top = top + "px";
    const arrow = Math.max(10, Math.min(r.left + window.scrollX + r.width / 2 - left - 6, width - 22));
    box.style.setProperty("--arrow-left", arrow + "px");
  }

  function askFirst(anchor, text, onYes) {
    closePopover(false);
    const box = document.createElement("div");
    box.className = "popconfirm";
    box.setAttribute("role", "alertdialog");
    box.setAttribute("aria-modal", "false");
    const message = document.createElement("p");
    message.className = "popconfirm-text";
    message.id = "popconfirm-text";
    message.textContent = text;
    box.setAttribute("aria-describedby", message.id);
    const buttons = document.createElement("div");
    buttons.className = "popconfirm-buttons";
    const no = document.createElement("button");
    no.type = "button";
    no.className = "btn btn-small";
    no.textContent = words.confirmCancel || "Cancel";
    no.dataset.popconfirm = "cancel";
    const yes = document.createElement("button");
    yes.type = "button";
    yes.className = "btn btn-small btn-primary";
    yes.textContent = words.confirmOk || "OK";
    yes.dataset.popconfirm = "ok";
    buttons.append(no, yes);
    box.append(message, buttons);
    document.body.append(box);
    place(box, anchor);
    openPopover = { box, anchor };
    no.addEventListener("click", function () { closePopover(true); });
    yes.addEventListener("click", function () { closePopover(false); onYes(); });
    yes.focus();
  }

  document.addEventListener("keydown", function (event) {
    if (event.key === "Escape" && openPopover) closePopover(true);
  });
  document.addEventListener("mousedown", function (event) {
    if (openPopover && !openPopover.box.contains(event.target)) closePopover(false);
  });

  document.addEventListener("submit", function (event) {
    const form = event.target;
    const button = event.submitter;
    const asker = button && button.dataset.confirm ? button : form;
    if (!(asker.dataset && asker.dataset.confirm)) return;
    if (form.dataset.confirmed === "1") {
      delete form.dataset.confirmed;
      return;
    }
    event.preventDefault();
    const anchor = button || form.querySelector("[type=submit]") || form;
    askFirst(anchor, confirmText(asker, form), function () {
      form.dataset.confirmed = "1";
      if (button && form.requestSubmit) form.requestSubmit(button);
      else if (form.requestSubmit) form.requestSubmit();
      else form.submit();
    });
  });

  // ---- toasts ---------------------------------------------------------------------------
  function closeToast(toast) {
    toast.classList.add("leaving");
    window.setTimeout(function () { toast.remove(); }, 250);
  }
  document.querySelectorAll(".toast").forEach(function (toast) {
    const close = document.createElement("button");
    close.type = "button";
    close.className = "toast-close";
    close.setAttribute("aria-label", words.close || "Close");
    close.textContent = "×";
    close.addEventListener("click", function () { closeToast(toast); });
    toast.append(close);
    const lasting = toast.classList.contains("msg-error") || toast.classList.contains("msg-warning");
    if (!lasting) window.setTimeout(function () { closeToast(toast); }, 6000);
  });

  // ---- searchable selects ---------------------------------------------------------------
  const LONG_SELECT = 8;
  function isFilterForm(form) {
    // getAttribute: a filter named "method" (核销方式) hides the form's own .method
    return form && form.classList.contains("filters") && (form.getAttribute("method") || "get").toLowerCase() === "get";
  }
  function enhanceSelect(select) {
    if (select.tomselect || select.dataset.native !== undefined || select.closest(".counter-panel, [data-native]")) return;
    const filter = isFilterForm(select.form);
    const searchUrl = select.dataset.searchUrl;
    if (!filter && !searchUrl && !select.multiple && select.options.length <= LONG_SELECT) return;
    if (filter && !select.multiple) {
      const first = select.options[0];
      // django-filter's "no choice": an empty value, or "unknown" for a yes/no filter
      // keep a label of its own (the records' 全业态); replace only Django's dashes or 未知
      const generic = /^(-+|未知|unknown)?$/i.test(first ? first.textContent.trim() : "");
      if (first && (first.value === "" || first.value === "unknown") && generic) {
        first.textContent = words.all || first.textContent;
      }
    }
    const settings = {
      allowEmptyOption: true,
      maxOptions: null,
      create: false,
      dropdownParent: "body",
      hideSelected: false,
      plugins: select.multiple ? ["remove_button"] : [],
      // while a search is typed, the typed words stand where the chosen item was (app.css)
      onType: function (query) { this.wrapper.classList.toggle("typing", query !== ""); },
      onDropdownClose: function () { this.wrapper.classList.remove("typing"); },
      render: {
        no_results: function () {
          const div = document.createElement("div");
          div.className = "no-results";
          div.textContent = words.noResults || "";
          return div;
        },
      },
    };
    if (searchUrl) {
      // a food of the product master: the select carries only the chosen option and the server
      // is asked as the user types, so thousands of foods never load into the page
      Object.assign(settings, {
        valueField: "value",
        labelField: "text",
        searchField: ["text"],
        preload: "focus",
        shouldLoad: function () { return true; },
        load: function (query, callback) {
          fetch(searchUrl + "?q=" + encodeURIComponent(query), { credentials: "same-origin" })
            .then(function (r) { return r.ok ? r.json() : { results: [] }; })
            .then(function (data) { callback(data.results); })
            .catch(function () { callback(); });
        },
      });
    }
    // eslint-disable-next-line no-undef
    const control = new TomSelect(select, settings);
    // a page's own script may switch the select off and on (the coupon rule form does)
    new MutationObserver(function () {
      if (select.disabled !== control.isDisabled) select.disabled ? control.disable() : control.enable();
    }).observe(select, { attributes: true, attributeFilter: ["disabled"] });
    if (select.disabled) control.disable();
  }
  if (window.TomSelect) {
    document.querySelectorAll(".content select, .topbar select").forEach(enhanceSelect);
  }

  // ---- file inputs: a button in the page's words and the chosen file's name ---------------
  document.querySelectorAll(".content input[type=file], #content input[type=file]").forEach(function (input) {
    const picker = document.createElement("label");
    picker.className = "file-picker";
    const button = document.createElement("span");
    button.className = "btn";
    button.textContent = words.chooseFile || "";
    const name = document.createElement("span");
    name.className = "file-name";
    name.textContent = words.noFile || "";
    input.before(picker);
    picker.append(input, button, name);
    input.addEventListener("change", function () {
      name.textContent = input.files.length ? Array.from(input.files).map(function (f) { return f.name; }).join("、") : words.noFile || "";
    });
  });

  // ---- date pickers ---------------------------------------------------------------------
  function pad(n) { return String(n).padStart(2, "0"); }
  function ymd(d) { return d.getFullYear() + "-" + pad(d.getMonth() + 1) + "-" + pad(d.getDate()); }
  function labelOf(input) {
    return input.id ? document.querySelector('label[for="' + input.id + '"]') : null;
  }
  function commonStart(a, b) {
    let i = 0;
    while (i < a.length && i < b.length && a[i] === b[i]) i++;
    return a.slice(0, i).trim();
  }
  function commonEnd(a, b) {
    return commonStart(a.split("").reverse().join(""), b.split("").reverse().join("")).split("").reverse().join("");
  }

  function rangePicker(from, to) {
    const field = from.closest(".field") || from.parentElement;
    const toField = to.closest(".field");
    const input = document.createElement("input");
    input.type = "text";
    input.id = from.id ? from.id + "_range" : "";
    input.className = "date-range";
    input.autocomplete = "off";
    const fromLabel = labelOf(from);
    const toLabel = labelOf(to);
    if (fromLabel) {
      // 生成日期起 / 生成日期止 → 生成日期; 起始日期 / 截止日期 → 日期
      const a = fromLabel.textContent.trim();
      const b = toLabel ? toLabel.textContent.trim() : "";
      const head = commonStart(a, b);
      const tail = commonEnd(a, b);
      if (head.length >= 2) fromLabel.textContent = head;
      else if (tail.length >= 2) fromLabel.textContent = tail;
      fromLabel.htmlFor = input.id;
    }
    from.after(input);
    from.type = "hidden";
    to.type = "hidden";
    if (toField && toField !== field) {
      field.append(to);
      toField.remove();
    }
    const start = from.value;
    const end = to.value;
    // eslint-disable-next-line no-undef
    flatpickr(input, {
      mode: "range",
      locale: Object.assign({}, flatpickr.l10ns.zh, { rangeSeparator: " " + (words.rangeTo || "-") + " " }),
      dateFormat: "Y-m-d",
      allowInput: true,
      defaultDate: start ? (end ? [start, end] : [start]) : end ? [end, end] : [],
      onChange: function (dates) {
        from.value = dates[0] ? ymd(dates[0]) : "";
        to.value = dates[1] ? ymd(dates[1]) : dates[0] ? ymd(dates[0]) : "";
      },
    });
    input.addEventListener("change", function () {
      if (!input.value.trim()) { from.value = ""; to.value = ""; }
    });
  }

  function datePicker(input) {
    const withTime = input.type === "datetime-local";
    input.type = "text";
    input.autocomplete = "off";
    if (withTime) input.value = input.value.replace("T", " ").slice(0, 16);
    // eslint-disable-next-line no-undef
    flatpickr(input, {
      locale: flatpickr.l10ns.zh,
      dateFormat: withTime ? "Y-m-d H:i" : "Y-m-d",
      enableTime: withTime,
      time_24hr: true,
      allowInput: true,
    });
  }

  if (window.flatpickr) {
    const done = new Set();
    document.querySelectorAll("form.filters").forEach(function (form) {
      if (!isFilterForm(form)) return;
      form.querySelectorAll("input[type=date][name$='_from']").forEach(function (from) {
        const to = form.elements[from.name.slice(0, -5) + "_to"];
        if (to && to.type === "date") {
          rangePicker(from, to);
          done.add(from).add(to);
        }
      });
    });
    document.querySelectorAll("input[type=date], input[type=datetime-local]").forEach(function (input) {
      if (!done.has(input) && !input.closest(".counter-panel, [data-native]")) datePicker(input);
    });
  }

  // ---- sidebar --------------------------------------------------------------------------
  const KEY = "couponhub.sidebar";
  const toggle = document.querySelector("[data-sidebar-toggle]");
  function setCollapsed(collapsed) {
    document.body.classList.toggle("sidebar-collapsed", collapsed);
    if (toggle) toggle.setAttribute("aria-expanded", collapsed ? "false" : "true");
    try { window.localStorage.setItem(KEY, collapsed ? "collapsed" : "open"); } catch (e) { /* private mode */ }
  }
  if (toggle) {
    let stored = null;
    try { stored = window.localStorage.getItem(KEY); } catch (e) { /* private mode */ }
    if (stored === "collapsed") setCollapsed(true);
    toggle.addEventListener("click", function () {
      setCollapsed(!document.body.classList.contains("sidebar-collapsed"));
    });
    // a group's icon in the collapsed rail opens the menu at that group
    document.querySelectorAll(".nav-group > summary").forEach(function (summary) {
      summary.addEventListener("click", function (event) {
        if (!document.body.classList.contains("sidebar-collapsed")) return;
        event.preventDefault();
        setCollapsed(false);
        summary.parentElement.open = true;
      });
    });
  }
  const sidebar = document.getElementById("sidebar");
  const active = sidebar && sidebar.querySelector("a.active");
  if (active && active.offsetTop + active.offsetHeight > sidebar.clientHeight) {
    sidebar.scrollTop = active.offsetTop - sidebar.clientHeight / 2;
  }

  // ---- small things ---------------------------------------------------------------------
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
