/* The slot picker in the visitor's own time zone, and one submit per click.
 *
 * Without this file the page still works: times show in the practice's zone
 * (or the one chosen in the selector) and every form posts normally.
 */
(function () {
  "use strict";
  document.documentElement.classList.add("js");

  var picker = document.getElementById("slot-picker");
  var zoneForm = document.querySelector("[data-zone-form]");
  var zoneSelect = document.getElementById("zone-select");
  var DAYS_PER_PAGE = 5;

  function browserZone() {
    try {
      return Intl.DateTimeFormat().resolvedOptions().timeZone || "";
    } catch (e) {
      return "";
    }
  }

  function dayKey(date, zone) {
    // en-CA formats as YYYY-MM-DD, a key that sorts by date.
    return new Intl.DateTimeFormat("en-CA", { timeZone: zone, year: "numeric", month: "2-digit", day: "2-digit" }).format(date);
  }

  function el(tag, attrs, text) {
    var node = document.createElement(tag);
    Object.keys(attrs || {}).forEach(function (name) { node.setAttribute(name, attrs[name]); });
    if (text) { node.textContent = text; }
    return node;
  }

  function render(slots, zone, firstIndex) {
    var dayLabel = new Intl.DateTimeFormat("en-US", { timeZone: zone, weekday: "long", month: "long", day: "numeric" });
    var timeLabel = new Intl.DateTimeFormat("en-US", { timeZone: zone, hour: "numeric", minute: "2-digit" });
    var chosen = picker.getAttribute("data-chosen") || "";
    var checked = picker.querySelector("input[name=start]:checked");
    if (checked) { chosen = checked.value; }
    var days = [];
    var byKey = {};
    slots.forEach(function (iso) {
      var date = new Date(iso);
      var key = dayKey(date, zone);
      if (!byKey[key]) { byKey[key] = { label: dayLabel.format(date), slots: [] }; days.push(key); }
      byKey[key].slots.push({ iso: iso, label: timeLabel.format(date) });
    });
    var container = picker.querySelector("[data-slot-days]");
    container.textContent = "";
    var page = days.slice(firstIndex, firstIndex + DAYS_PER_PAGE);
    if (!page.length) {
      container.appendChild(el("p", { "class": "slot-none" }, "There are no open times right now. Join the waitlist below and I will email you when one opens."));
    }
    page.forEach(function (key, dayIndex) {
      var section = el("section", { "class": "slot-day", "aria-labelledby": "day-" + (dayIndex + 1) });
      section.appendChild(el("h3", { "class": "slot-day-heading", id: "day-" + (dayIndex + 1) }, byKey[key].label));
      var times = el("div", { "class": "slot-times" });
      byKey[key].slots.forEach(function (slot, slotIndex) {
        var id = "slot-" + (dayIndex + 1) + "-" + (slotIndex + 1);
        var wrap = el("span", { "class": "slot" });
        var input = el("input", { type: "radio", name: "start", id: id, value: slot.iso, required: "" });
        if (slot.iso === chosen) { input.checked = true; }
        wrap.appendChild(input);
        wrap.appendChild(el("label", { "for": id }, slot.label));
        times.appendChild(wrap);
      });
      section.appendChild(times);
      container.appendChild(section);
    });
    var pages = picker.querySelector("[data-slot-pages]");
    if (!pages) {
      pages = el("p", { "class": "slot-pages", "data-slot-pages": "" });
      picker.appendChild(pages);
    }
    pages.textContent = "";
    function pageButton(text, index) {
      var button = el("button", { type: "button", "class": "button button-secondary button-small" }, text);
      button.addEventListener("click", function () {
        render(slots, zone, index);
        picker.scrollIntoView({ block: "start" });
      });
      pages.appendChild(button);
    }
    if (firstIndex > 0) { pageButton("Earlier dates", Math.max(0, firstIndex - DAYS_PER_PAGE)); }
    if (firstIndex + DAYS_PER_PAGE < days.length) { pageButton("Later dates", firstIndex + DAYS_PER_PAGE); }
  }

  function showZone(zone) {
    var url = picker.getAttribute("data-slots-url") + "?tz=" + encodeURIComponent(zone);
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
        render(data.slots, data.timezone, 0);
      })
      .catch(function () { /* the server-rendered picker stays as it is */ });
  }

  if (picker && zoneSelect) {
    zoneSelect.addEventListener("change", function () { showZone(zoneSelect.value); });
    if (zoneForm) {
      zoneForm.addEventListener("submit", function (event) { event.preventDefault(); showZone(zoneSelect.value); });
    }
    var chosenByHand = new URLSearchParams(window.location.search).has("tz");
    var detected = browserZone();
    var hasErrors = !!document.querySelector("[data-booking-form] .errorlist");
    // A page re-shown with errors keeps the zone she booked in; otherwise her
    // browser's zone wins over the practice's default.
    if (!chosenByHand && !hasErrors && detected && detected !== picker.getAttribute("data-zone")) {
      showZone(detected);
    } else if (!hasErrors && !chosenByHand) {
      showZone(picker.getAttribute("data-zone"));
    }
  }

  document.querySelectorAll("form").forEach(function (form) {
    form.addEventListener("submit", function () {
      var button = form.querySelector("[data-submit]");
      if (!button) { return; }
      // One booking per click: the server also books once per form, this
      // only saves a second round trip.
      window.setTimeout(function () { button.disabled = true; }, 0);
    });
  });
})();
