// The promo-code application form: only the fields of the chosen generation and discount type
// show, and a warning appears when the channel belongs to another department than the applying
// one (channel → department name from the json_script "channel-departments"; the warning's text
// from its data-message).
(function () {
  const form = document.querySelector(".promo-form");
  const source = document.getElementById("channel-departments");
  if (!form || !source) return;
  const depts = JSON.parse(source.textContent);
  const warn = document.getElementById("channel-warning");
  function checked(name) {
    const el = form.querySelector("input[name=" + name + "]:checked");
    return el ? el.value : "";
  }
  function show(name, on) {
    const el = form.querySelector(".promo-field-" + name);
    if (el) el.hidden = !on;
  }
  function refresh() {
    const gen = checked("generation");
    const type = checked("discount_type");
    show("manual_code", gen !== "auto");
    show("quantity", gen === "auto");
    show("discount_rate", type === "percent");
    show("cap_amount", type === "percent");
    show("floor_amount", type === "percent" || type === "direct");
    show("direct_amount", type === "direct" || type === "threshold");
    show("threshold_amount", type === "threshold");
    const channel = form.querySelector("[name=channel]");
    const dept = form.querySelector("[name=department]");
    const chDept = depts[channel.value];
    const option = dept.options[dept.selectedIndex];
    const myDept = option ? option.text : "";
    if (channel.value && dept.value && chDept && chDept !== myDept) {
      warn.textContent = warn.dataset.message + " " + chDept;
      warn.hidden = false;
    } else {
      warn.hidden = true;
    }
  }
  form.addEventListener("change", refresh);
  refresh();
})();
