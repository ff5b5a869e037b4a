/* The booking and manage pages in the browser.
 *
 * - The slot picker in the visitor's own time zone, one day at a time: a row
 *   of day chips (a tab list) above the chosen day's times.
 * - Once a time is picked with a pointer, the page moves on to "About you"
 *   (or to the button that moves the call), and a short line that stays in
 *   view says which time is chosen, with a link to change it.
 * - The phone field says when it is needed and is checked before the form
 *   is sent (the server checks it too).
 * - A summary of the server's error messages takes the focus; its links
 *   focus their fields.
 * - One submit per click.
 *
 * Without this file the pages still work: every day of a page of days is
 * listed in the practice's zone (or the one chosen in the selector), and
 * every form posts normally and is checked by the server.
 */
(function () {
  "use strict";
  document.documentElement.classList.add("js");

  var picker = document.getElementById("slot-picker");
  var zoneForm = document.querySelector("[data-zone-form]");
  var zoneSelect = document.getElementById("zone-select");
  var chosenLine = document.querySelector("[data-chosen-line]");
  var summary = document.querySelector("[data-error-summary]");
  // When a pointer last pressed inside the picker: a time picked with a
  // pointer moves the page on; one picked with the arrow keys does not.
  var pointerAt = 0;
  var PHONE_NEEDS = {
    "": "",
    optional: "(optional)",
    call: "(needed for a phone call)",
    contact: "(needed to call or text you)"
  };
  var PHONE_MISSING = {
    call: "Please give a phone number for the call.",
    contact: "Please give a phone number, or choose email."
  };

  function browserZone() {
    try {
      return Intl.DateTimeFormat().resolvedOptions().timeZone || "";
    } catch (e) {
      return "";
    }
  }

  function reducedMotion() {
    return window.matchMedia && window.matchMedia("(prefers-reduced-motion: reduce)").matches;
  }

  function el(tag, attrs, text) {
    var node = document.createElement(tag);
    Object.keys(attrs || {}).forEach(function (name) { node.setAttribute(name, attrs[name]); });
    if (text) { node.textContent = text; }
    return node;
  }

  function formatter(zone, options, locale) {
    var format = new Intl.DateTimeFormat(locale || "en-US", Object.assign({ timeZone: zone }, options));
    // Newer browsers put a narrow no-break space before AM/PM; the server a space.
    return function (date) { return format.format(date).replace(/\u202f/g, " "); };
  }

  // --- The picker: days as chips, one day's times at a time -----------------

  function groupByDay(slots, zone) {
    var long = formatter(zone, { weekday: "long", month: "long", day: "numeric" });
    var short = formatter(zone, { weekday: "short", month: "short", day: "numeric" });
    var weekday = formatter(zone, { weekday: "short" });
    var monthDay = formatter(zone, { month: "short", day: "numeric" });
    var time = formatter(zone, { hour: "numeric", minute: "2-digit" });
    // en-CA formats as YYYY-MM-DD, a key that sorts by date.
    var key = formatter(zone, { year: "numeric", month: "2-digit", day: "2-digit" }, "en-CA");
    var days = [];
    var byKey = {};
    slots.forEach(function (iso) {
      var date = new Date(iso);
      var dayKey = key(date);
      if (!byKey[dayKey]) {
        byKey[dayKey] = {
          key: dayKey, label: long(date), short: short(date),
          weekday: weekday(date), date: monthDay(date), slots: []
        };
        days.push(byKey[dayKey]);
      }
      byKey[dayKey].slots.push({ iso: iso, label: time(date) });
    });
    return days;
  }

  function noneText() {
    return "There are no open times right now." + (picker.hasAttribute("data-with-waitlist")
      ? " Join the waitlist below and I will email you when one opens." : "");
  }

  function render(slots, zone, complete) {
    var days = groupByDay(slots, zone);
    var checked = picker.querySelector("input[name=start]:checked");
    var chosen = checked ? checked.value : (picker.getAttribute("data-chosen") || "");
    var container = picker.querySelector("[data-slot-days]");
    var chosenDay = "";
    container.textContent = "";
    if (complete) {
      // Every day is a chip now: no pages of days.
      var pages = picker.querySelector("[data-slot-pages]");
      if (pages) { pages.parentNode.removeChild(pages); }
    }
    if (!days.length) {
      container.appendChild(el("p", { "class": "slot-none" }, noneText()));
      var waitlist = document.querySelector("[data-waitlist]");
      if (waitlist) { waitlist.open = true; }
      updateChosen();
      return;
    }
    var tabs = el("div", { "class": "day-chips", role: "tablist", "aria-label": "Days with open times" });
    container.appendChild(tabs);
    days.forEach(function (day, dayIndex) {
      var n = dayIndex + 1;
      var tab = el("button", {
        type: "button", role: "tab", "class": "day-chip", id: "day-tab-" + n,
        "aria-controls": "day-" + n, "aria-selected": "false", tabindex: "-1", "data-day": day.key
      });
      tab.appendChild(el("span", { "class": "day-chip-weekday" }, day.weekday));
      tab.appendChild(document.createTextNode(" "));
      tab.appendChild(el("span", { "class": "day-chip-date" }, day.date));
      tabs.appendChild(tab);

      var panel = el("section", {
        "class": "slot-day", id: "day-" + n, role: "tabpanel",
        "aria-labelledby": "day-heading-" + n, "data-day": day.key, "data-short": day.short
      });
      panel.hidden = true;
      panel.appendChild(el(picker.getAttribute("data-day-heading") || "h3", { "class": "slot-day-heading", id: "day-heading-" + n }, day.label));
      var times = el("div", { "class": "slot-times" });
      day.slots.forEach(function (slot, slotIndex) {
        var id = "slot-" + n + "-" + (slotIndex + 1);
        var input = el("input", { type: "radio", name: "start", id: id, value: slot.iso, required: "" });
        if (slot.iso === chosen) { input.checked = true; chosenDay = day.key; }
        var wrap = el("span", { "class": "slot" });
        wrap.appendChild(input);
        wrap.appendChild(el("label", { "for": id }, slot.label));
        times.appendChild(wrap);
      });
      panel.appendChild(times);
      container.appendChild(panel);
    });
    var keys = days.map(function (day) { return day.key; });
    var shown = picker.getAttribute("data-day") || new URLSearchParams(window.location.search).get("from") || "";
    showDay(chosenDay || (keys.indexOf(shown) >= 0 ? shown : keys[0]), false);
    updateChosen();
  }

  function showDay(key, focusTab) {
    picker.setAttribute("data-day", key);
    picker.querySelectorAll("[role=tab]").forEach(function (tab) {
      var on = tab.getAttribute("data-day") === key;
      tab.setAttribute("aria-selected", on ? "true" : "false");
      tab.tabIndex = on ? 0 : -1;
      if (!on) { return; }
      var row = tab.parentNode;
      // Bring the chip into the row's view without scrolling the page.
      if (tab.offsetLeft < row.scrollLeft || tab.offsetLeft + tab.offsetWidth > row.scrollLeft + row.clientWidth) {
        row.scrollLeft = Math.max(0, tab.offsetLeft - 8);
      }
      if (focusTab) { tab.focus(); }
    });
    picker.querySelectorAll("[role=tabpanel]").forEach(function (panel) {
      panel.hidden = panel.getAttribute("data-day") !== key;
    });
  }

  function slotsOnThePage() {
    return Array.prototype.map.call(picker.querySelectorAll("input[name=start]"), function (input) { return input.value; });
  }

  function updateChosen() {
    if (!chosenLine) { return; }
    var input = picker.querySelector("input[name=start]:checked");
    var panel = input && input.closest("[data-short]");
    var label = input && picker.querySelector("label[for='" + input.id + "']");
    if (!panel || !label) {
      chosenLine.hidden = true;
      return;
    }
    chosenLine.querySelector("[data-chosen-text]").textContent = panel.getAttribute("data-short") + " at " + label.textContent;
    chosenLine.hidden = false;
  }

  function moveOn() {
    var next = document.querySelector("[data-move-on]");
    if (!next) { return; }
    next.focus({ preventScroll: true });
    next.scrollIntoView({ block: next.tagName === "BUTTON" ? "nearest" : "start", behavior: reducedMotion() ? "auto" : "smooth" });
  }

  function focusPicker() {
    var input = picker.querySelector("input[name=start]:checked");
    if (input) {
      showDay(input.closest("[data-day]").getAttribute("data-day"), false);
    } else {
      input = picker.querySelector("[role=tabpanel]:not([hidden]) input[name=start]") || picker.querySelector("input[name=start]");
    }
    picker.scrollIntoView({ block: "start", behavior: reducedMotion() ? "auto" : "smooth" });
    if (input) { input.focus({ preventScroll: true }); }
  }

  function showZone(zone) {
    var url = picker.getAttribute("data-slots-url") + "?tz=" + encodeURIComponent(zone);
    picker.setAttribute("aria-busy", "true");
    return fetch(url, { headers: { Accept: "application/json" }, credentials: "same-origin" })
      .then(function (response) {
        if (!response.ok) { throw new Error("slots " + response.status); }
        return response.json();
      })
      .then(function (data) {
        picker.setAttribute("data-zone", data.timezone);
        document.querySelectorAll("[data-zone-input]").forEach(function (input) { input.value = data.timezone; });
        if (zoneSelect) {
          if (!Array.prototype.some.call(zoneSelect.options, function (o) { return o.value === data.timezone; })) {
            zoneSelect.insertBefore(el("option", { value: data.timezone }, data.timezone.replace(/_/g, " ")), zoneSelect.firstChild);
          }
          zoneSelect.value = data.timezone;
        }
        var label = picker.querySelector("[data-zone-label]");
        if (label) {
          label.textContent = zoneSelect && zoneSelect.selectedIndex >= 0
            ? zoneSelect.options[zoneSelect.selectedIndex].text
            : data.timezone.replace(/_/g, " ");
        }
        picker.removeAttribute("data-day");
        render(data.slots, data.timezone, true);
      })
      .catch(function () { /* the picker drawn from the page stays as it is */ })
      .then(function () { picker.removeAttribute("aria-busy"); });
  }

  if (picker) {
    var hasErrors = !!summary || !!document.querySelector("[data-booking-form] .errorlist");
    // The server's days first, as chips, so the page is short at once.
    render(slotsOnThePage(), picker.getAttribute("data-zone"), false);

    picker.addEventListener("pointerdown", function () { pointerAt = Date.now(); });
    picker.addEventListener("click", function (event) {
      var tab = event.target.closest("[role=tab]");
      if (tab) { showDay(tab.getAttribute("data-day"), false); }
    });
    picker.addEventListener("keydown", function (event) {
      var tab = event.target.closest("[role=tab]");
      if (!tab) { return; }
      var tabs = Array.prototype.slice.call(picker.querySelectorAll("[role=tab]"));
      var index = tabs.indexOf(tab);
      var next = { ArrowRight: index + 1, ArrowLeft: index - 1, Home: 0, End: tabs.length - 1 }[event.key];
      if (next === undefined) { return; }
      event.preventDefault();
      next = Math.max(0, Math.min(tabs.length - 1, next));
      showDay(tabs[next].getAttribute("data-day"), true);
    });
    picker.addEventListener("change", function (event) {
      if (event.target.name !== "start") { return; }
      updateChosen();
      if (Date.now() - pointerAt < 2000) { moveOn(); }
    });
    if (chosenLine) {
      chosenLine.querySelector("[data-chosen-change]").addEventListener("click", function (event) {
        event.preventDefault();
        focusPicker();
      });
    }

    if (zoneSelect) {
      zoneSelect.addEventListener("change", function () { showZone(zoneSelect.value); });
      if (zoneForm) {
        zoneForm.addEventListener("submit", function (event) { event.preventDefault(); showZone(zoneSelect.value); });
      }
    }
    // A page re-shown with errors keeps the times the server just checked,
    // in the zone she booked in. Otherwise every day is fetched, in the zone
    // she chose in the address or else her browser's.
    if (!hasErrors) {
      var chosenByHand = new URLSearchParams(window.location.search).has("tz");
      var detected = browserZone();
      showZone(!chosenByHand && detected ? detected : picker.getAttribute("data-zone"));
    }
  }

  // --- The phone: needed for a phone call, or to be called or texted --------

  var phoneField = document.querySelector("[data-phone-field]");
  var phone = phoneField && phoneField.querySelector("input");
  var bookingForm = phone && phone.form;

  function phoneNeed() {
    var mode = bookingForm.querySelector("input[name=meeting_mode]:checked");
    var contact = bookingForm.querySelector("input[name=preferred_contact]:checked");
    if (mode && mode.value === "phone") { return "call"; }
    if (contact && (contact.value === "phone" || contact.value === "text")) { return "contact"; }
    return mode && contact ? "optional" : "";
  }

  function updatePhone() {
    var need = phoneNeed();
    phoneField.querySelector("[data-phone-need]").textContent = PHONE_NEEDS[need];
    phone.required = need === "call" || need === "contact";
    phone.setCustomValidity("");
    return need;
  }

  if (phone) {
    updatePhone();
    bookingForm.addEventListener("change", function (event) {
      if (event.target.name === "meeting_mode" || event.target.name === "preferred_contact") { updatePhone(); }
    });
    phone.addEventListener("input", function () { phone.setCustomValidity(""); });
    // The form is "novalidate" so the server's messages explain the rest;
    // the phone is the one answer the browser checks first.
    bookingForm.addEventListener("submit", function (event) {
      var need = updatePhone();
      if (phone.required && !phone.value.trim()) {
        event.preventDefault();
        phone.setCustomValidity(PHONE_MISSING[need]);
        phone.focus();
        phone.reportValidity();
      }
    });
  }

  // --- Months, asked only when she is pregnant or postpartum ---------------

  var months = document.querySelector("[data-perinatal-months]");
  if (months) {
    var monthsInput = months.querySelector("input");
    var showMonths = function () {
      var answer = months.closest("form").querySelector("input[name=perinatal]:checked");
      var asked = answer && answer.value !== "neither";
      months.hidden = !asked && !monthsInput.value && !months.querySelector(".errorlist");
    };
    showMonths();
    months.closest("form").addEventListener("change", function (event) {
      if (event.target.name === "perinatal") { showMonths(); }
    });
  }

  // --- The error summary ----------------------------------------------------

  if (summary) {
    summary.focus();
    summary.addEventListener("click", function (event) {
      var link = event.target.closest("a[href^='#']");
      var target = link && document.getElementById(link.getAttribute("href").slice(1));
      if (!target) { return; }
      event.preventDefault();
      if (target === picker) {
        focusPicker();
        return;
      }
      var label = document.querySelector("label[for='" + target.id + "']");
      (label || target).scrollIntoView({ block: "center" });
      target.focus({ preventScroll: true });
    });
  }

  // --- One submit per click -------------------------------------------------

  document.querySelectorAll("form").forEach(function (form) {
    form.addEventListener("submit", function (event) {
      var button = form.querySelector("[data-submit]");
      if (!button) { return; }
      // One booking per click: the server also books once per form, this
      // only saves a second round trip.
      window.setTimeout(function () {
        if (!event.defaultPrevented) { button.disabled = true; }
      }, 0);
    });
  });
})();
