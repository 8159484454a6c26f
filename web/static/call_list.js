// The call list's bulk actions. "Select all calls on this page" ticks (or clears) every call's box, so what will
// be acted on is what the page shows; without JavaScript the server reads the box itself and takes the page's calls.
(function () {
  "use strict";
  // Enter in the tag field adds the tag: the form's first button, which Enter presses otherwise, is Assign.
  var tag = document.getElementById("bulk-tag");
  var addTag = document.getElementById("add-tag");
  if (tag && addTag) {
    tag.addEventListener("keydown", function (event) {
      if (event.key === "Enter" && !event.isComposing) {
        event.preventDefault();
        addTag.click();
      }
    });
  }
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
