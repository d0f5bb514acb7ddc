// 本店可用: pick up to 20 coupons, then 核销优惠券. The server refuses a 21st as well.
(function () {
  var form = document.getElementById("redeem-select");
  if (!form) return;
  var max = parseInt(form.dataset.max, 10) || 20;
  var count = document.getElementById("redeem-count");
  var button = document.getElementById("redeem-submit");
  var limit = document.getElementById("redeem-limit");
  var boxes = form.querySelectorAll(".coupon-check");
  function refresh() {
    var n = 0;
    boxes.forEach(function (b) {
      if (b.checked) n += 1;
      var card = b.parentNode.querySelector(".coupon-card");
      if (card) card.classList.toggle("selected", b.checked);
    });
    count.textContent = n;
    button.disabled = n === 0;
    return n;
  }
  boxes.forEach(function (b) {
    b.addEventListener("change", function () {
      if (b.checked && refresh() > max) {
        b.checked = false;
        limit.hidden = false;
        b.focus();
      } else {
        limit.hidden = true;
      }
      refresh();
    });
  });
  form.addEventListener("submit", function (e) {
    if (refresh() > max) { e.preventDefault(); limit.hidden = false; }
  });
  refresh();
})();
