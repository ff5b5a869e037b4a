/* The medicine session page: vitals typed on a tablet, one row at a time.
 *
 * - A row is given a UUID (its entry key) the moment it is added, written to
 *   this tablet's storage, shown in the table as "Saved on this tablet, will
 *   be sent", and only then posted (fetch) to the vitals address. It leaves
 *   the tablet's storage when the server answers with the stored row: the
 *   server stores a row once per entry key, so sending it again is safe.
 * - A row the server did not answer for (no connection, the staff session
 *   ended after idle time so the answer is the sign-in page, a refused
 *   security token) stays on the tablet and is sent again on the next page
 *   load (after signing in again), when the connection comes back, when the
 *   tablet wakes and every 15 seconds. A reload or a sign-out loses nothing.
 * - The row being typed is kept too (a reload keeps it in the form), and the
 *   time is filled in with the time now in the practice's zone, kept current
 *   while the page is open until a time is typed.
 * - Readings outside the practice's ranges are marked as they are typed and
 *   in the table, in colour and in words ("high", "low").
 *
 * Without this file the same form is posted and the page comes back with the
 * row (and a new entry key in the form, so a double submit stores it once).
 */
(function () {
  "use strict";

  var section = document.getElementById("vitals");
  var table = document.getElementById("vitals-table");
  if (!section || !table) {
    return;
  }
  var form = document.getElementById("vitals-form");
  var body = table.tBodies[0];
  var url = section.getAttribute("data-vitals-url");
  var zone = section.getAttribute("data-zone");
  var storeKey = "vitals-queue:" + section.getAttribute("data-record");
  var draftKey = storeKey + ":draft";
  var unsentBox = document.getElementById("vitals-unsent");
  var unsentWhy = document.getElementById("vitals-unsent-why");
  var signIn = document.getElementById("vitals-sign-in");
  var status = document.getElementById("vitals-status");
  var formError = document.getElementById("vitals-form-error");
  var READINGS = ["systolic", "diastolic", "heart_rate", "spo2"];
  var SENT = "Recorded";
  var KEPT = "Saved on this tablet, will be sent";
  var sending = false;
  var retryTimer = null;
  var timeTyped = false;

  function limit(name, end) {
    var value = section.getAttribute("data-" + name + "-" + end);
    return value === null || value === "" ? null : Number(value);
  }

  function outOfRange(name, value) {
    if (value === null || value === undefined || value === "" || isNaN(Number(value))) {
      return "";
    }
    var number = Number(value);
    var low = limit(name, "low");
    var high = limit(name, "high");
    if (low !== null && number < low) {
      return "low";
    }
    if (high !== null && number > high) {
      return "high";
    }
    return "";
  }

  // --- The tablet's storage -----------------------------------------------------

  function load(key) {
    try {
      return JSON.parse(window.localStorage.getItem(key) || "null");
    } catch (error) {
      return null;
    }
  }

  function store(key, value) {
    try {
      if (value === null) {
        window.localStorage.removeItem(key);
      } else {
        window.localStorage.setItem(key, JSON.stringify(value));
      }
    } catch (error) {
      // Storage full or refused: the row is still in the page and being sent.
    }
  }

  function queued() {
    return load(storeKey) || [];
  }

  function setQueued(rows) {
    store(storeKey, rows.length ? rows : null);
  }

  function forget(entryKey) {
    setQueued(queued().filter(function (row) { return row.entry_key !== entryKey; }));
  }

  function uuid4() {
    if (window.crypto && window.crypto.randomUUID) {
      return window.crypto.randomUUID();
    }
    var bytes = window.crypto.getRandomValues(new Uint8Array(16));
    bytes[6] = (bytes[6] & 0x0f) | 0x40;
    bytes[8] = (bytes[8] & 0x3f) | 0x80;
    var hex = Array.prototype.map.call(bytes, function (b) {
      return (b + 0x100).toString(16).slice(1);
    }).join("");
    return [hex.slice(0, 8), hex.slice(8, 12), hex.slice(12, 16), hex.slice(16, 20), hex.slice(20)].join("-");
  }

  // --- Times ----------------------------------------------------------------------

  function nowInPractice() {
    try {
      return new Intl.DateTimeFormat("en-GB", {
        timeZone: zone, hour: "2-digit", minute: "2-digit", hourCycle: "h23"
      }).format(new Date());
    } catch (error) {
      var now = new Date();
      return ("0" + now.getHours()).slice(-2) + ":" + ("0" + now.getMinutes()).slice(-2);
    }
  }

  function clockLabel(hhmm) {
    var parts = /^(\d{1,2}):(\d{2})/.exec(hhmm || "");
    if (!parts) {
      return hhmm || "";
    }
    var hour = Number(parts[1]);
    var suffix = hour < 12 ? "AM" : "PM";
    return ((hour % 12) || 12) + ":" + parts[2] + " " + suffix;
  }

  // --- The table ------------------------------------------------------------------

  function readingCell(name, value, direction) {
    var cell = document.createElement("td");
    if (value === null || value === undefined || value === "") {
      return cell;
    }
    if (!direction) {
      cell.textContent = String(value);
      return cell;
    }
    cell.className = "out-of-range out-" + direction;
    var strong = document.createElement("strong");
    strong.textContent = String(value);
    var badge = document.createElement("span");
    badge.className = "dosing-badge";
    badge.textContent = direction;
    var hidden = document.createElement("span");
    hidden.className = "visually-hidden";
    hidden.textContent = ", out of range";
    badge.appendChild(hidden);
    cell.appendChild(strong);
    cell.appendChild(document.createTextNode(" "));
    cell.appendChild(badge);
    return cell;
  }

  function rowElement(entryKey) {
    var rows = body.querySelectorAll("tr[data-entry-key]");
    for (var i = 0; i < rows.length; i += 1) {
      if (rows[i].getAttribute("data-entry-key") === entryKey) {
        return rows[i];
      }
    }
    return null;
  }

  function drawRow(entryKey, timeLabel, readings, statusText, pending) {
    var placeholder = body.querySelector("tr.dosing-no-rows");
    if (placeholder) {
      placeholder.remove();
    }
    var tr = document.createElement("tr");
    tr.setAttribute("data-entry-key", entryKey);
    if (pending) {
      tr.className = "pending";
    }
    var time = document.createElement("td");
    time.textContent = timeLabel;
    tr.appendChild(time);
    readings.forEach(function (reading) {
      tr.appendChild(readingCell(reading.name, reading.value, reading.out_of_range));
    });
    var state = document.createElement("td");
    state.textContent = statusText;
    tr.appendChild(state);
    var existing = rowElement(entryKey);
    if (existing) {
      body.replaceChild(tr, existing);
    } else {
      body.appendChild(tr);
    }
    return tr;
  }

  function drawPending(row, statusText) {
    var readings = READINGS.map(function (name) {
      var value = row[name] === "" ? null : row[name];
      return { name: name, value: value, out_of_range: outOfRange(name, value) };
    });
    drawRow(row.entry_key, clockLabel(row.taken_at), readings, statusText || KEPT, true);
  }

  function say(text) {
    status.textContent = "";
    window.setTimeout(function () { status.textContent = text; }, 50);
  }

  function showKept(why, signedOut) {
    unsentBox.hidden = false;
    unsentWhy.textContent = why;
    signIn.hidden = !signedOut;
  }

  function hideKeptIfDone() {
    if (!queued().length) {
      unsentBox.hidden = true;
    }
  }

  // --- Sending --------------------------------------------------------------------

  function csrfToken() {
    var match = /(?:^|;\s*)csrftoken=([^;]+)/.exec(document.cookie);
    if (match) {
      return decodeURIComponent(match[1]);
    }
    var field = document.querySelector("input[name=csrfmiddlewaretoken]");
    return field ? field.value : "";
  }

  function payload(row) {
    var data = new FormData();
    data.append("form", "vital");
    data.append("vital-entry_key", row.entry_key);
    data.append("vital-taken_at", row.taken_at);
    READINGS.forEach(function (name) {
      data.append("vital-" + name, row[name] === null || row[name] === undefined ? "" : row[name]);
    });
    return data;
  }

  function firstError(errors) {
    var names = Object.keys(errors || {});
    for (var i = 0; i < names.length; i += 1) {
      var list = errors[names[i]];
      if (list && list.length) {
        return list[0].message;
      }
    }
    return "The server could not store this row.";
  }

  // Resolves to "sent", "refused" (the server will never take this row as it
  // is), "signed-out" or "offline" (keep it and try again).
  function send(row) {
    return window.fetch(url, {
      method: "POST",
      body: payload(row),
      credentials: "same-origin",
      headers: { "Accept": "application/json", "X-CSRFToken": csrfToken() }
    }).then(function (response) {
      var json = (response.headers.get("Content-Type") || "").indexOf("application/json") === 0;
      if (response.redirected || !json) {
        return response.status === 403 || response.redirected ? "signed-out" : "offline";
      }
      return response.json().then(function (answer) {
        if (response.ok && answer.ok) {
          var stored = answer.row;
          drawRow(stored.entry_key, stored.taken_at, stored.readings, SENT, false);
          forget(row.entry_key);
          return "sent";
        }
        if (response.status === 400) {
          drawPending(row, "Not saved: " + firstError(answer.errors));
          forget(row.entry_key);
          return "refused";
        }
        return "offline";
      });
    }, function () {
      return "offline";
    });
  }

  function flush() {
    if (sending) {
      return;
    }
    var rows = queued();
    if (!rows.length) {
      hideKeptIfDone();
      return;
    }
    sending = true;
    var sent = 0;
    (function next(index) {
      if (index >= rows.length) {
        sending = false;
        hideKeptIfDone();
        if (sent) {
          say(sent === 1 ? "Row sent." : sent + " rows sent.");
        }
        return;
      }
      send(rows[index]).then(function (outcome) {
        if (outcome === "sent") {
          sent += 1;
        }
        if (outcome === "signed-out" || outcome === "offline") {
          sending = false;
          var signedOut = outcome === "signed-out";
          showKept(
            signedOut
              ? "You are signed out: the rows go once you sign in again."
              : "No connection right now: the rows go when it is back.",
            signedOut
          );
          say(KEPT + ".");
          scheduleRetry();
          return;
        }
        next(index + 1);
      });
    })(0);
  }

  function scheduleRetry() {
    if (retryTimer === null) {
      retryTimer = window.setInterval(function () {
        if (!queued().length) {
          window.clearInterval(retryTimer);
          retryTimer = null;
          return;
        }
        flush();
      }, 15000);
    }
  }

  // --- The entry row --------------------------------------------------------------

  function field(name) {
    return form ? form.querySelector("[name='vital-" + name + "']") : null;
  }

  function markRange(name) {
    var input = field(name);
    if (!input) {
      return;
    }
    var direction = outOfRange(name, input.value);
    input.classList.toggle("out-of-range", Boolean(direction));
    var note = document.getElementById(input.id + "_range");
    if (note) {
      note.textContent = direction ? (direction === "high" ? "High" : "Low") + ": out of range" : "";
    }
  }

  function typedRow() {
    var row = { taken_at: field("taken_at").value };
    READINGS.forEach(function (name) {
      var value = field(name).value.trim();
      row[name] = value === "" ? null : Number(value);
    });
    return row;
  }

  function saveDraft() {
    var row = typedRow();
    var typed = READINGS.some(function (name) { return row[name] !== null; });
    store(draftKey, typed ? row : null);
  }

  function clearEntry() {
    READINGS.forEach(function (name) {
      field(name).value = "";
      markRange(name);
    });
    field("taken_at").value = nowInPractice();
    timeTyped = false;
    store(draftKey, null);
  }

  if (form) {
    var draft = load(draftKey);
    if (draft && !form.querySelector(".errorlist")) {
      if (draft.taken_at) {
        field("taken_at").value = draft.taken_at;
        timeTyped = true;
      }
      READINGS.forEach(function (name) {
        if (draft[name] !== null && draft[name] !== undefined) {
          field(name).value = draft[name];
        }
      });
    }
    READINGS.forEach(function (name) {
      markRange(name);
      field(name).addEventListener("input", function () {
        markRange(name);
        saveDraft();
      });
    });
    field("taken_at").addEventListener("input", function () {
      timeTyped = true;
      saveDraft();
    });
    // The time stays "now" while the page is open, until she types one.
    window.setInterval(function () {
      if (!timeTyped && document.activeElement !== field("taken_at")) {
        field("taken_at").value = nowInPractice();
      }
    }, 20000);

    form.addEventListener("submit", function (event) {
      event.preventDefault();
      var row = typedRow();
      if (!READINGS.some(function (name) { return row[name] !== null; })) {
        formError.textContent = "Enter at least one reading.";
        formError.hidden = false;
        field("systolic").focus();
        return;
      }
      formError.hidden = true;
      row.entry_key = uuid4();
      var rows = queued();
      rows.push(row);
      setQueued(rows);
      drawPending(row);
      clearEntry();
      field("systolic").focus();
      flush();
    });
  }

  // --- Rows left from before: shown, then sent --------------------------------------

  var left = queued().filter(function (row) {
    // A row the table has was stored (only its answer was lost).
    return !rowElement(row.entry_key);
  });
  setQueued(left);
  left.forEach(function (row) { drawPending(row); });
  if (left.length) {
    showKept("", false);
  }

  window.addEventListener("online", flush);
  document.addEventListener("visibilitychange", function () {
    if (document.visibilityState === "visible") {
      flush();
    }
  });
  flush();
})();
