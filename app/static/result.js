/* The result page: the expiry in the guest's own time zone and language, counting down. */
(function () {
  var box = document.querySelector("[data-expires-at]");
  if (!box || !window.Intl) return;
  var lang = document.documentElement.lang;
  var end = Date.now() + 1000 * Number(box.dataset.secondsLeft);
  var units = [["week", 604800], ["day", 86400], ["hour", 3600], ["minute", 60], ["second", 1]];
  box.querySelector("time").textContent = new Date(box.dataset.expiresAt)
    .toLocaleString(lang, { dateStyle: "medium", timeStyle: "short" });
  function tick() {
    var left = (end - Date.now()) / 1000;
    if (left <= 0) {
      clearInterval(timer);
      setTimeout(function () { location.reload(); }, 1000);
      return;
    }
    var unit = units.find(function (u) { return left / u[1] >= 0.85; }) || units[4];
    box.querySelector("[data-time-left]").textContent = new Intl.NumberFormat(lang, {
      style: "unit", unit: unit[0], unitDisplay: "long"
    }).format(Math.max(1, Math.round(left / unit[1])));
  }
  var timer = setInterval(tick, 1000);
  tick();
})();
