// The call page: waveform lanes with silence and overtalk, transcript following the audio, click-to-play,
// keyboard shortcuts, the transcript's words as one Tab stop (roving tabindex, arrow keys between words).
// No framework: the page works without this script (native player, forms); this adds the sync.
(function () {
  "use strict";

  // After a comment is posted, or an evaluation submitted, focus goes to what it did (announced, and where the
  // reader is): last, after the player has scrolled to the moment; at once on a page without a player (its audio
  // missing from storage).
  function focusAdded() {
    var added = document.getElementById("comment-added") || document.getElementById("evaluation-said");
    if (added) {
      added.focus();
    }
  }

  var player = document.querySelector(".player");
  var audio = document.getElementById("call-audio");
  if (!player || !audio) {
    focusAdded();
    return;
  }
  var waveform = player.querySelector(".waveform");
  var canvases = Array.prototype.slice.call(player.querySelectorAll(".lane-wave"));
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
  var peaks = {}; // lane (data-lane: left, right or mono) -> bucket peaks
  var roving = words.find(function (el) { return el.tabIndex === 0; }) || words[0] || null;
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
    var played = duration() ? audio.currentTime / duration() : 0;
    canvases.forEach(function (canvas) {
      if (!canvas.getContext) {
        return;
      }
      var ctx = canvas.getContext("2d");
      var width = canvas.width;
      var height = canvas.height;
      var middle = height / 2;
      var lane = peaks[canvas.dataset.lane] || [];
      var count = lane.length;
      ctx.clearRect(0, 0, width, height);
      for (var i = 0; i < count; i += 1) {
        var x = Math.floor((i / count) * width);
        var bar = Math.max(1, lane[i] * middle);
        ctx.fillStyle = i / count < played ? "#0b5cad" : "#9fb3c8";
        ctx.fillRect(x, middle - bar, Math.max(1, Math.ceil(width / count) - 1), bar * 2);
      }
      ctx.fillStyle = "#d4351c";
      ctx.fillRect(Math.floor(played * width), 0, 2, height);
    });
  }

  function clock(seconds) {
    var s = Math.floor(seconds);
    return Math.floor(s / 60) + ":" + String(s % 60).padStart(2, "0");
  }

  // Silences and overtalk, found on the server: shaded over the lanes, and listed for screen readers.
  function showSpans(kind, spans, end) {
    var layer = player.querySelector(".spans");
    if (!layer || !end) {
      return [];
    }
    var label = waveform.dataset[kind + "Label"] || kind;
    return spans.map(function (span) {
      var mark = document.createElement("span");
      mark.className = "span " + kind;
      mark.dataset.start = span[0];
      mark.dataset.end = span[1];
      mark.style.left = Math.min(100, (span[0] / end) * 100) + "%";
      mark.style.width = Math.max(0.2, ((span[1] - span[0]) / end) * 100) + "%";
      mark.title = label + " " + clock(span[0]) + "–" + clock(span[1]);
      layer.appendChild(mark);
      return mark.title;
    });
  }

  function placeMarks() {
    var end = duration();
    document.querySelectorAll(".marks .mark").forEach(function (mark) {
      var at = parseFloat(mark.dataset.seek);
      mark.style.left = (end ? Math.min(100, (at / end) * 100) : 0) + "%";
    });
  }

  // A waveform the server is busy preparing (503) is asked for again when it says, a few times at most.
  var peaksTries = 0;
  function loadPeaks() {
    var url = player.dataset.peaksUrl;
    if (!url || !window.fetch) {
      return;
    }
    peaksTries += 1;
    fetch(url, { credentials: "same-origin", headers: { Accept: "application/json" } })
      .then(function (response) {
        if (response.status === 503 && peaksTries < 20) {
          var wait = parseInt(response.headers.get("Retry-After"), 10) || 5;
          window.setTimeout(loadPeaks, wait * 1000);
          return null;
        }
        return response.ok ? response.json() : { peaks: [] };
      })
      .then(function (data) {
        if (data === null) {
          return;
        }
        peaks = {};
        (data.lanes || []).forEach(function (lane) {
          peaks[lane.channel || "mono"] = lane.peaks || [];
        });
        if (!data.lanes && data.peaks) {
          peaks.mono = data.peaks;
        }
        if (!durationHint && data.duration_s) {
          durationHint = data.duration_s;
        }
        var end = duration();
        var listed = showSpans("silence", data.silences || [], end).concat(
          showSpans("overtalk", data.overtalk || [], end)
        );
        // Audio the server could not decode is said so, where the lanes would otherwise stay empty without a word.
        var failed = document.getElementById("waveform-failed");
        if (failed) {
          failed.hidden = !data.failed;
        }
        var summary = document.getElementById("waveform-summary");
        if (summary) {
          summary.textContent = listed.join("; ");
        }
        placeMarks();
        draw();
      })
      .catch(function () {
        peaks = {};
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

  // Clicking a word, or Enter on it, plays from there, whether the player was playing or paused.
  function playFrom(seconds) {
    seek(seconds);
    playWanted = true;
    var started = audio.play();
    if (started && started.catch) {
      started.catch(function () {});
    }
  }

  // The words are one Tab stop: the last word focused (or the first) is the one Tab reaches.
  function rove(el) {
    if (!el || el === roving) {
      return;
    }
    if (roving) {
      roving.tabIndex = -1;
    }
    el.tabIndex = 0;
    roving = el;
  }

  function moveAmongWords(from, key) {
    var index = words.indexOf(from);
    var next = null;
    if (key === "ArrowRight") {
      next = words[index + 1];
    } else if (key === "ArrowLeft") {
      next = words[index - 1];
    } else if (key === "Home") {
      next = words[0];
    } else if (key === "End") {
      next = words[words.length - 1];
    }
    if (next) {
      rove(next);
      next.focus();
    }
    return true;
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
    if (target.dataset.seek !== undefined) {
      seek(parseFloat(target.dataset.seek));
    } else {
      rove(target);
      playFrom(parseFloat(target.dataset.start));
    }
  });

  document.addEventListener("focusin", function (event) {
    if (event.target.classList && event.target.classList.contains("w") && event.target.dataset.start) {
      rove(event.target);
    }
  });

  document.addEventListener("keydown", function (event) {
    if (event.altKey || event.ctrlKey || event.metaKey || typing(event.target)) {
      return;
    }
    // The native controls and buttons answer Space themselves.
    var onControl = event.target === audio || (event.target.tagName || "").toLowerCase() === "button";
    var key = event.key;
    var onWord = event.target.classList && event.target.classList.contains("w") && event.target.dataset.start;
    if (onWord && key === "Enter") {
      playFrom(parseFloat(event.target.dataset.start));
      event.preventDefault();
    } else if (onWord && (key === "ArrowLeft" || key === "ArrowRight" || key === "Home" || key === "End")) {
      moveAmongWords(event.target, key);
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

  canvases.forEach(function (canvas) {
    canvas.addEventListener("click", function (event) {
      var box = canvas.getBoundingClientRect();
      seek(((event.clientX - box.left) / box.width) * duration());
    });
  });

  // The sticky player must not cover what has focus: the page scrolls with its height as padding.
  function padForPlayer() {
    document.documentElement.style.setProperty("--sticky-top", player.offsetHeight + 8 + "px");
  }
  padForPlayer();
  if (window.ResizeObserver) {
    new window.ResizeObserver(padForPlayer).observe(player);
  }

  // "Skip to transcript" lands on the transcript's words, where the arrow keys work.
  document.querySelectorAll('a.skip-link[href="#transcript"]').forEach(function (link) {
    link.addEventListener("click", function (event) {
      if (roving) {
        event.preventDefault();
        roving.focus();
      }
    });
  });
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
      rove(first.el);
    }
  }
  focusAdded();
})();
