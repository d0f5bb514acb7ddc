// Coupon rule form: enable only the fields that apply to the chosen medium, kind and benefit
// (the server checks the same rules in coupons/rules.py and names the field in its error).
(function () {
  "use strict";
  var form = document.getElementById("rule-form");
  if (!form) return;
  function val(name) {
    var el = form.elements[name];
    return el ? el.value : "";
  }
  var rules = {
    claim_deadline: function () { return val("medium") === "electronic" && val("kind") === "ordinary"; },
    sale_price: function () { return val("medium") === "electronic" && val("kind") === "ordinary"; },
    transferable: function () { return val("medium") === "electronic"; },
    u_value_price: function () { return val("kind") === "u_value_exchange"; },
    face_value: function () { return val("benefit") === "cash" || val("benefit") === "recharge"; },
    discount_rate: function () { return val("benefit") === "discount"; },
    exchange_product: function () { return val("benefit") === "product"; },
    excluded_categories: function () { return val("benefit") === "cash" || val("benefit") === "recharge"; },
    valid_until: function () { return val("validity_type") === "fixed"; },
    valid_days: function () { return val("validity_type") === "days"; },
    recharge_number_length: function () { return val("benefit") === "recharge"; }
  };
  function restrictOptions() {
    var physical = val("medium") === "physical";
    var kind = form.elements.kind;
    Array.prototype.forEach.call(kind.options, function (o) {
      o.disabled = physical && o.value !== "ordinary";
    });
    if (physical) kind.value = "ordinary";
    var benefit = form.elements.benefit;
    var rechargeOk = physical && kind.value === "ordinary";
    Array.prototype.forEach.call(benefit.options, function (o) {
      if (o.value === "recharge") o.disabled = !rechargeOk;
    });
    if (!rechargeOk && benefit.value === "recharge") benefit.value = "cash";
  }
  function apply() {
    restrictOptions();
    Object.keys(rules).forEach(function (name) {
      var el = form.elements[name];
      if (!el) return;
      var on = rules[name]();
      el.disabled = !on;
      var wrap = form.querySelector('[data-wrap="' + name + '"]');
      if (wrap) wrap.classList.toggle("is-disabled", !on);
    });
    var start = parseInt(val("start_value") || "0", 10);
    var total = parseInt(val("total") || "0", 10);
    var out = document.getElementById("end-value");
    if (out) out.textContent = total > 0 && start >= 0 ? String(start + total - 1) : "";
  }
  form.addEventListener("change", apply);
  form.addEventListener("input", apply);
  apply();
})();
