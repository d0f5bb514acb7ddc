// The consumer's order page with a red packet to claim: the claim form carries the phone's
// position when the consumer allows it (anti-fraud); without it the claim still goes through.
(function () {
  const field = document.getElementById("location");
  if (!field || !navigator.geolocation) return;
  navigator.geolocation.getCurrentPosition(
    function (p) {
      field.value = p.coords.latitude.toFixed(5) + "," + p.coords.longitude.toFixed(5);
    },
    function () {},
    { timeout: 5000 }
  );
})();
