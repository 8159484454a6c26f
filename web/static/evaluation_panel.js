// The evaluation panel of the call page: "At" stamps the playback time on an answer; a draft saves itself.
(function () {
  "use strict";
  var form = document.getElementById("evaluation-form");
  if (!form) {
    return;
  }
  var audio = document.getElementById("call-audio");
  var status = document.getElementById("evaluation-status");

  form.addEventListener("click", function (event) {
    var button = event.target.closest ? event.target.closest("button[data-stamp]") : null;
    if (!button) {
      return;
    }
    event.preventDefault();
    var input = document.getElementById(button.getAttribute("data-stamp"));
    if (!input) {
      return;
    }
    // Down to the tenth: rounded up at the end of the call, the moment was past its end, and the form refused it.
    input.value = audio ? (Math.floor(audio.currentTime * 10) / 10).toString() : "0";
    input.dispatchEvent(new Event("change", { bubbles: true }));
  });

  var draftUrl = form.getAttribute("data-draft-url");
  if (!draftUrl) {
    return; // submitted: changes become a new version only when submitted
  }
  var timer = null;
  var saving = false;
  var again = false;

  function say(text) {
    if (status) {
      status.textContent = text;
    }
  }

  function save() {
    timer = null;
    if (saving) {
      again = true;
      return;
    }
    saving = true;
    fetch(draftUrl, {
      method: "POST",
      body: new FormData(form),
      credentials: "same-origin",
      headers: { Accept: "application/json" },
    })
      .then(function (response) {
        return response.json().then(function (body) {
          return { ok: response.ok, status: response.status, body: body };
        });
      })
      .then(function (result) {
        if (result.status === 401) {
          say(form.getAttribute("data-signed-out-label"));
        } else if (result.ok) {
          form.setAttribute("data-evaluation-id", result.body.id);
          say(form.getAttribute("data-saved-label") + " " + new Date().toLocaleTimeString());
        } else {
          say(form.getAttribute("data-failed-label") + " " + (result.body.message || ""));
        }
      })
      .catch(function () {
        say(form.getAttribute("data-failed-label"));
      })
      .then(function () {
        saving = false;
        if (again) {
          again = false;
          save();
        }
      });
  }

  function schedule() {
    if (timer) {
      window.clearTimeout(timer);
    }
    timer = window.setTimeout(save, 600);
  }

  form.addEventListener("change", schedule);
  form.addEventListener("input", schedule);
  form.addEventListener("submit", function () {
    if (timer) {
      window.clearTimeout(timer);
      timer = null;
    }
  });
})();
