// The call page: waveform, transcript following the audio, click-to-seek, keyboard shortcuts.
// No framework: the page works without this script (native player, forms); this adds the sync.
(function () {
  "use strict";

  var player = document.querySelector(".player");
  var audio = document.getElementById("call-audio");
  if (!player || !audio) {
    return;
  }
  var canvas = document.getElementById("waveform");
  var durationHint = parseFloat(player.dataset.duration) || 0;
  var startAt = parseFloat(player.dataset.startAt) || 0;
  var words = Array.prototype.slice.call(document.querySelectorAll(".w[data-start]"));
  var timeline = words
    .map(function (el) {
      return { el: el, start: parseFloat(el.dataset.start), end: parseFloat(el.dataset.end) };
    })
    .sort(function (a, b) {
      return a.start - b.start;
    });
  var peaks = [];
  var current = null;
  var frame = 0;
  var atInput = document.getElementById("at_s");
  var atEdited = false;
  var SKIP_S = 5;

  function duration() {
    return isFinite(audio.duration) && audio.duration > 0 ? audio.duration : durationHint;
  }

  function seek(seconds) {
    var end = duration();
    audio.currentTime = Math.max(0, end ? Math.min(seconds, end) : seconds);
    follow();
  }

  // The word under the playhead: the last word starting at or before it, if it has not ended yet.
  function wordAt(t) {
    var lo = 0;
    var hi = timeline.length - 1;
    var found = -1;
    while (lo <= hi) {
      var mid = (lo + hi) >> 1;
      if (timeline[mid].start <= t) {
        found = mid;
        lo = mid + 1;
      } else {
        hi = mid - 1;
      }
    }
    return found >= 0 && t < timeline[found].end + 0.05 ? timeline[found] : null;
  }

  function follow() {
    var t = audio.currentTime;
    var hit = wordAt(t);
    if (hit !== current) {
      if (current) {
        current.el.classList.remove("playing");
      }
      if (hit) {
        hit.el.classList.add("playing");
      }
      current = hit;
    }
    if (atInput && !atEdited) {
      atInput.value = t.toFixed(1);
    }
    draw();
  }

  function tick() {
    follow();
    frame = audio.paused ? 0 : window.requestAnimationFrame(tick);
  }

  function draw() {
    if (!canvas || !canvas.getContext) {
      return;
    }
    var ctx = canvas.getContext("2d");
    var width = canvas.width;
    var height = canvas.height;
    var middle = height / 2;
    var played = duration() ? audio.currentTime / duration() : 0;
    ctx.clearRect(0, 0, width, height);
    var count = peaks.length;
    for (var i = 0; i < count; i += 1) {
      var x = Math.floor((i / count) * width);
      var bar = Math.max(1, peaks[i] * middle);
      ctx.fillStyle = i / count < played ? "#0b5cad" : "#9fb3c8";
      ctx.fillRect(x, middle - bar, Math.max(1, Math.ceil(width / count) - 1), bar * 2);
    }
    ctx.fillStyle = "#d4351c";
    ctx.fillRect(Math.floor(played * width), 0, 2, height);
  }

  function placeMarks() {
    var end = duration();
    document.querySelectorAll(".marks .mark").forEach(function (mark) {
      var at = parseFloat(mark.dataset.seek);
      mark.style.left = (end ? Math.min(100, (at / end) * 100) : 0) + "%";
    });
  }

  function loadPeaks() {
    var url = player.dataset.peaksUrl;
    if (!url || !window.fetch) {
      return;
    }
    fetch(url, { credentials: "same-origin", headers: { Accept: "application/json" } })
      .then(function (response) {
        return response.ok ? response.json() : { peaks: [] };
      })
      .then(function (data) {
        peaks = data.peaks || [];
        if (!durationHint && data.duration_s) {
          durationHint = data.duration_s;
        }
        placeMarks();
        draw();
      })
      .catch(function () {
        peaks = [];
      });
  }

  // The audio URL carries a playback ticket that expires; once the player is refused, ask for a fresh one
  // and carry on from where it was (at most once a minute, so a lasting refusal does not loop).
  var renewedAt = 0;
  var playWanted = false;
  function renewTicket() {
    var url = player.dataset.playbackUrl;
    var csrf = document.querySelector("input[name=csrf_token]");
    if (!url || !csrf || !window.fetch || Date.now() - renewedAt < 60000) {
      return;
    }
    renewedAt = Date.now();
    var at = audio.currentTime;
    var resume = playWanted;
    fetch(url, {
      method: "POST",
      credentials: "same-origin",
      headers: { Accept: "application/json", "X-CSRFToken": csrf.value },
    })
      .then(function (response) {
        return response.ok ? response.json() : null;
      })
      .then(function (data) {
        if (!data || !data.url) {
          return;
        }
        audio.src = data.url;
        audio.currentTime = at;
        if (resume) {
          audio.play().catch(function () {});
        }
      })
      .catch(function () {});
  }

  function togglePlay() {
    if (audio.paused) {
      audio.play();
    } else {
      audio.pause();
    }
  }

  function typing(target) {
    if (!target || !target.tagName) {
      return false;
    }
    var tag = target.tagName.toLowerCase();
    return tag === "input" || tag === "textarea" || tag === "select" || target.isContentEditable;
  }

  document.addEventListener("click", function (event) {
    var target = event.target.closest("[data-seek], .w[data-start]");
    if (!target) {
      return;
    }
    seek(parseFloat(target.dataset.seek !== undefined ? target.dataset.seek : target.dataset.start));
  });

  document.addEventListener("keydown", function (event) {
    if (event.altKey || event.ctrlKey || event.metaKey || typing(event.target)) {
      return;
    }
    // The native controls and buttons answer Space themselves.
    var onControl = event.target === audio || (event.target.tagName || "").toLowerCase() === "button";
    var key = event.key;
    if (key === "Enter" && event.target.classList && event.target.classList.contains("w")) {
      seek(parseFloat(event.target.dataset.start));
      event.preventDefault();
    } else if ((key === " " && !onControl) || key === "k" || key === "K") {
      togglePlay();
      event.preventDefault();
    } else if (key === "j" || key === "J" || (key === "ArrowLeft" && event.target !== audio)) {
      seek(audio.currentTime - SKIP_S);
      event.preventDefault();
    } else if (key === "l" || key === "L" || (key === "ArrowRight" && event.target !== audio)) {
      seek(audio.currentTime + SKIP_S);
      event.preventDefault();
    }
  });

  if (canvas) {
    canvas.addEventListener("click", function (event) {
      var box = canvas.getBoundingClientRect();
      seek(((event.clientX - box.left) / box.width) * duration());
    });
  }
  if (atInput) {
    atInput.addEventListener("input", function () {
      atEdited = true;
    });
  }
  audio.addEventListener("timeupdate", follow);
  audio.addEventListener("seeked", follow);
  audio.addEventListener("play", function () {
    playWanted = true;
    if (!frame) {
      frame = window.requestAnimationFrame(tick);
    }
  });
  audio.addEventListener("pause", function () {
    // A refused fetch pauses the player too; that pause is not the listener's.
    if (!audio.error) {
      playWanted = false;
    }
  });
  audio.addEventListener("error", renewTicket);
  audio.addEventListener("loadedmetadata", function () {
    placeMarks();
    draw();
  });

  placeMarks();
  loadPeaks();
  if (startAt > 0) {
    // Before any byte is loaded this sets where playback will start (the default playback position).
    audio.currentTime = startAt;
    var first = wordAt(startAt) || timeline.find(function (w) { return w.start >= startAt; });
    if (first) {
      first.el.scrollIntoView({ block: "center" });
      first.el.classList.add("playing");
      current = first;
    }
  }
})();
