// The newsletter sign-up, in place: the form posts in the background and is
// replaced by the thank-you and the next step, with no page load. Without
// this file the same form posts normally and the server answers with a page.
//
// Each message is shown once: a field's message beside its field, and the
// "Oops" box only for what she cannot fix in the form (the server failed,
// the connection was lost, too many sign-ups).
(function () {
  "use strict";

  function show(element, visible) {
    if (element) {
      element.hidden = !visible;
    }
  }

  function clearErrors(block) {
    var list = block.querySelector("[data-signup-error-list]");
    if (list) {
      list.textContent = "";
    }
    show(block.querySelector("[data-signup-error]"), false);
    block.querySelectorAll("[data-signup-field-error]").forEach(function (node) {
      node.textContent = "";
      show(node, false);
    });
    block.querySelectorAll("[data-signup-field]").forEach(function (input) {
      input.removeAttribute("aria-invalid");
      input.removeAttribute("aria-describedby");
    });
  }

  // The "Oops" box, with the reasons under it (none, or one per line).
  function showFailure(block, message, reasons) {
    var box = block.querySelector("[data-signup-error]");
    var list = block.querySelector("[data-signup-error-list]");
    if (message) {
      box.querySelector(".signup-error-title").textContent = message;
    }
    reasons.forEach(function (text) {
      var item = document.createElement("li");
      item.textContent = text;
      list.appendChild(item);
    });
    show(box, true);
  }

  function showErrors(block, data) {
    var errors = data.errors || {};
    var placed = 0;
    var unplaced = [];
    Object.keys(errors).forEach(function (name) {
      var input = block.querySelector('[data-signup-field="' + name + '"]');
      var slot = block.querySelector('[data-signup-field-error="' + name + '"]');
      if (input && slot) {
        slot.textContent = errors[name].join(" ");
        show(slot, true);
        input.setAttribute("aria-invalid", "true");
        input.setAttribute("aria-describedby", slot.id);
        placed += 1;
      } else {
        unplaced = unplaced.concat(errors[name]);
      }
    });
    // Nothing she can fix in a field: then it is the "Oops" box's to say.
    if (data.message || unplaced.length || !placed) {
      showFailure(block, data.message, unplaced);
    }
    var first = block.querySelector('[aria-invalid="true"]');
    if (first) {
      first.focus();
    }
  }

  function succeed(block, form) {
    var success = block.querySelector("[data-signup-success]");
    form.remove();
    show(success, true);
    success.focus();
  }

  function enhance(block) {
    var form = block.querySelector("[data-signup-form]");
    if (!form || !window.fetch || !window.FormData) {
      return;
    }
    var box = block.querySelector("[data-signup-error]");
    form.addEventListener("submit", function (event) {
      event.preventDefault();
      var button = form.querySelector("button[type=submit]");
      button.disabled = true;
      clearErrors(block);
      fetch(form.action, {
        method: "POST",
        body: new FormData(form),
        headers: { Accept: "application/json" },
        credentials: "same-origin",
      })
        .then(
          function (response) {
            // A server error page is not JSON: the "Oops" alone.
            return response.json().catch(function () {
              return { ok: false, message: null, errors: {} };
            });
          },
          function () {
            // No answer at all: offline, or the connection dropped. Her
            // typing stays in the form for another try.
            return {
              ok: false,
              message: null,
              errors: { __all__: [box.getAttribute("data-connection-lost")] },
            };
          }
        )
        .then(function (data) {
          if (data.ok) {
            succeed(block, form);
          } else {
            showErrors(block, data);
          }
        })
        .finally(function () {
          button.disabled = false;
        });
    });
  }

  document.addEventListener("DOMContentLoaded", function () {
    document.querySelectorAll("[data-newsletter-signup]").forEach(enhance);
  });
})();
