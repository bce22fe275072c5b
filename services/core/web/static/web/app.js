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

  // WebOTP (https://wicg.github.io/web-otp/): where the browser can read the SMS (its last line is
  // `@<this site> #<code>`), it offers the code; once the user allows it, fill it in and sign in.
  // Without the API, or without JavaScript, the user types the code (iOS offers it from the field's
  // autocomplete="one-time-code").
  var otpField = document.querySelector('input[autocomplete="one-time-code"]');
  if (otpField && otpField.form && "OTPCredential" in window) {
    var stop = new AbortController();
    otpField.form.addEventListener("submit", function () { stop.abort(); });
    navigator.credentials.get({ otp: { transport: ["sms"] }, signal: stop.signal }).then(function (otp) {
      if (!otp || !otp.code) return;
      otpField.value = otp.code;
      otpField.form.submit();
    }).catch(function () { /* dismissed, aborted or timed out: the user types the code */ });
  }

  // The browser's time zone (an IANA name), for the days of the profile's chart: the server reads
  // the cookie and counts in UTC without it. IANA names are cookie-safe as they are (letters,
  // digits, / _ + -), so the value is sent unencoded, the way the server reads it.
  try {
    var zone = Intl.DateTimeFormat().resolvedOptions().timeZone;
    if (zone && /^[A-Za-z0-9_\/+-]{1,64}$/.test(zone) && document.cookie.split("; ").indexOf("tz=" + zone) === -1) {
      document.cookie = "tz=" + zone + "; path=/; max-age=31536000; samesite=lax" +
        (location.protocol === "https:" ? "; secure" : "");
    }
  } catch (e) { /* no Intl time zone: the chart stays in UTC */ }

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
