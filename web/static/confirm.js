// Admin actions that end someone's access (disable, revoke, resets) ask first: a form with data-confirm
// submits only when its question is answered yes. The CSP forbids inline script, hence this file.
(function () {
  "use strict";

  document.addEventListener("submit", function (event) {
    var question = event.target.getAttribute("data-confirm");
    if (question && !window.confirm(question)) {
      event.preventDefault();
    }
  });
})();
