// The training library: on a trainer's call view, take a clip's span from the transcript (Start / End beside
// each segment, or a text selection across segments) or from the playhead; on a set's page, play the clips
// one after the other with their transcripts following. The pages work without it (plain forms and players).
(function () {
  "use strict";

  // Seconds as typed, with a decimal comma or point (Finnish 12,5; English 12.5), as the server reads them
  // (web/ui/numbers.py typed_seconds); what does not read as seconds is 0.
  function seconds(value) {
    var text = String(value === undefined || value === null ? "" : value)
      .trim()
      .replace(/,/g, ".");
    if (!/^[+-]?(\d+\.?\d*|\.\d+)(e[+-]?\d+)?$/i.test(text)) {
      return 0;
    }
    var number = Number(text);
    return isFinite(number) ? number : 0;
  }

  // Seconds written as the form's reader writes them: its data-decimal-separator (a comma in Finnish).
  function shown(value, separator) {
    return String(Math.round(value * 100) / 100).replace(".", separator || ".");
  }

  function all(root, selector) {
    return Array.prototype.slice.call(root.querySelectorAll(selector));
  }

  function play(audio) {
    var started = audio.play();
    if (started && started.catch) {
      started.catch(function () {}); // a pause before the audio arrived: nothing to report
    }
  }

  function callView() {
    var form = document.querySelector(".clip-form");
    var audio = document.getElementById("training-audio");
    if (!form || !audio) {
      return;
    }
    var start = document.getElementById("start_s");
    var end = document.getElementById("end_s");
    var segments = all(document, ".segments .segment[data-start]");
    all(document, "[data-start-from], [data-end-at], [data-mark], [data-use-span]").forEach(function (button) {
      button.hidden = false;
    });

    // The segments inside the span to cut are marked, so the clip can be seen before it is cut.
    function markSpan() {
      var from = seconds(start.value);
      var to = seconds(end.value);
      segments.forEach(function (segment) {
        var inside = to > from && seconds(segment.dataset.end) > from && seconds(segment.dataset.start) < to;
        segment.classList.toggle("in-clip", inside);
      });
    }

    var separator = form.dataset.decimalSeparator || ".";

    function setSpan(from, to) {
      if (from !== null) {
        start.value = shown(from, separator);
      }
      if (to !== null) {
        end.value = shown(to, separator);
      }
      markSpan();
    }

    document.addEventListener("click", function (event) {
      var button = event.target.closest("button");
      if (!button) {
        return;
      }
      if (button.dataset.seek !== undefined) {
        audio.currentTime = seconds(button.dataset.seek);
        play(audio);
      } else if (button.dataset.startFrom !== undefined) {
        setSpan(seconds(button.dataset.startFrom), null);
      } else if (button.dataset.endAt !== undefined) {
        setSpan(null, seconds(button.dataset.endAt));
      } else if (button.dataset.useSpan !== undefined) {
        var span = button.dataset.useSpan.split(" ");
        setSpan(seconds(span[0]), seconds(span[1]));
      } else if (button.dataset.mark === "start") {
        setSpan(audio.currentTime, null);
      } else if (button.dataset.mark === "end") {
        setSpan(null, audio.currentTime);
      }
    });

    function segmentOf(node) {
      var element = node && node.nodeType === Node.TEXT_NODE ? node.parentElement : node;
      return element && element.closest ? element.closest(".segments .segment[data-start]") : null;
    }

    // Selecting transcript text takes the span of the segments the selection touches.
    var transcript = document.querySelector(".segments");
    if (transcript) {
      transcript.addEventListener("mouseup", function () {
        var selection = window.getSelection();
        if (!selection || selection.isCollapsed) {
          return;
        }
        var first = segmentOf(selection.anchorNode);
        var last = segmentOf(selection.focusNode);
        if (!first || !last) {
          return;
        }
        setSpan(
          Math.min(seconds(first.dataset.start), seconds(last.dataset.start)),
          Math.max(seconds(first.dataset.end), seconds(last.dataset.end))
        );
      });
    }
    start.addEventListener("input", markSpan);
    end.addEventListener("input", markSpan);
    audio.addEventListener("timeupdate", function () {
      var t = audio.currentTime;
      segments.forEach(function (segment) {
        segment.classList.toggle("speaking", t >= seconds(segment.dataset.start) && t < seconds(segment.dataset.end));
      });
    });
    markSpan();
  }

  function follow(lines, t) {
    lines.forEach(function (line) {
      line.classList.toggle("current", t >= seconds(line.dataset.start) && t < seconds(line.dataset.end));
    });
  }

  function setPlayer() {
    var players = all(document, ".set-items audio.set-audio");
    var button = document.getElementById("play-set");
    if (!players.length || !button) {
      return;
    }
    button.hidden = false;
    players.forEach(function (audio, index) {
      var item = audio.closest(".set-item");
      var lines = all(item, ".clip-lines .line");
      audio.addEventListener("play", function () {
        players.forEach(function (other) {
          if (other !== audio && !other.paused) {
            other.pause();
          }
        });
        all(document, ".set-item.current").forEach(function (other) {
          other.classList.remove("current");
        });
        item.classList.add("current");
      });
      audio.addEventListener("timeupdate", function () {
        follow(lines, audio.currentTime);
      });
      audio.addEventListener("ended", function () {
        follow(lines, -1);
        item.classList.remove("current");
        var next = players[index + 1];
        if (next) {
          next.currentTime = 0;
          next.closest(".set-item").scrollIntoView({ block: "nearest" });
          play(next);
        }
      });
    });
    button.addEventListener("click", function () {
      players[0].currentTime = 0;
      play(players[0]);
    });
  }

  callView();
  setPlayer();
})();
