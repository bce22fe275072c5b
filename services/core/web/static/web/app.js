// Progressive enhancement only: the pages work without it.
(function () {
  "use strict";

  // Resend button: rendered disabled with the seconds left; count down and enable it at zero.
  document.querySelectorAll("[data-countdown]").forEach(function (button) {
    var left = parseInt(button.getAttribute("data-countdown"), 10) || 0;
    var seconds = button.querySelector("[data-seconds]");
    var deadline = Date.now() + left * 1000;
    function tick() {
      left = Math.max(0, Math.ceil((deadline - Date.now()) / 1000));
      if (seconds) seconds.textContent = String(left);
      if (left > 0) { setTimeout(tick, 250); return; }
      button.disabled = false;
      button.textContent = button.getAttribute("data-ready-label");
    }
    tick();
  });

  // Copy button next to the invite code: shown only when the clipboard can be used.
  document.querySelectorAll("[data-copy]").forEach(function (button) {
    if (!navigator.clipboard) return;
    button.hidden = false;
    var label = button.textContent;
    button.addEventListener("click", function () {
      navigator.clipboard.writeText(button.getAttribute("data-copy")).then(function () {
        button.textContent = button.getAttribute("data-copied-label");
        setTimeout(function () { button.textContent = label; }, 2000);
      });
    });
  });
})();
