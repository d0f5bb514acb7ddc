// The resend button counts down the 60 s the server enforces.
(function () {
  var button = document.getElementById("resend");
  var label = document.getElementById("resend-wait");
  if (!button) return;
  // The server renders the button disabled while a wait is left (so it is, before this runs).
  var wait = parseInt(button.dataset.wait, 10) || 0;
  if (wait <= 0) return;
  var timer = setInterval(function () {
    wait -= 1;
    label.textContent = wait > 0 ? " (" + wait + "s)" : "";
    if (wait <= 0) { clearInterval(timer); button.disabled = false; }
  }, 1000);
})();
