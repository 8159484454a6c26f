// A refused form comes back with its fields marked invalid: the first one takes the focus, so that a keyboard or
// screen reader user lands on what to correct (its label and the error it points at read out), not on the page's top.
(function () {
  "use strict";
  const field = document.querySelector('main [aria-invalid="true"]');
  if (field && (document.activeElement === document.body || document.activeElement === null)) {
    field.focus();
  }
})();
