// The call list's "Select all calls on this page": ticks (or clears) every call's box, so what will be
// acted on is what the page shows. Without JavaScript the server reads the box itself and takes the page's calls.
(function () {
  "use strict";
  var all = document.getElementById("all_on_page");
  if (!all) {
    return;
  }
  var boxes = Array.prototype.slice.call(document.querySelectorAll('input[form="bulk"][name="recording_id"]'));
  all.addEventListener("change", function () {
    boxes.forEach(function (box) {
      box.checked = all.checked;
    });
  });
  boxes.forEach(function (box) {
    box.addEventListener("change", function () {
      all.checked = boxes.every(function (each) {
        return each.checked;
      });
    });
  });
})();
