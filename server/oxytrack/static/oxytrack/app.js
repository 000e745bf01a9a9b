// OxyTrack pages: behaviour shared by every page. No inline script anywhere (strict CSP).
"use strict";

// A request that comes back from the login page means the session ended
// (15 minutes idle): go there for real instead of drawing the login form
// inside a table.
document.addEventListener("htmx:beforeSwap", function (event) {
  var xhr = event.detail.xhr;
  if (xhr && xhr.responseURL) {
    var path = new URL(xhr.responseURL).pathname;
    if (path.indexOf("/login/") === 0) {
      event.detail.shouldSwap = false;
      window.location.href = xhr.responseURL;
      return;
    }
  }
  // A fragment refused with 400 carries the form's error message: show it
  // in place (htmx leaves error responses unswapped by default).
  if (xhr && xhr.status === 400) {
    event.detail.shouldSwap = true;
    event.detail.isError = false;
  }
});

// The compliance kit's "Print" button (no inline handler: strict CSP).
document.addEventListener("click", function (event) {
  var target = event.target;
  if (target instanceof Element && target.closest("[data-print]")) {
    window.print();
  }
});
