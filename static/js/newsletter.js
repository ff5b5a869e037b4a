// The newsletter sign-up, in place: the form posts in the background and is
// replaced by the thank-you line, with no page load. Without this file the
// same form posts normally and the server answers with a page.
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

  function showErrors(block, message, errors) {
    var box = block.querySelector("[data-signup-error]");
    var list = block.querySelector("[data-signup-error-list]");
    box.querySelector(".signup-error-title").textContent = message;
    Object.keys(errors || {}).forEach(function (name) {
      errors[name].forEach(function (text) {
        var item = document.createElement("li");
        item.textContent = text;
        list.appendChild(item);
      });
      var input = block.querySelector('[data-signup-field="' + name + '"]');
      var slot = block.querySelector('[data-signup-field-error="' + name + '"]');
      if (input && slot) {
        slot.textContent = errors[name].join(" ");
        show(slot, true);
        input.setAttribute("aria-invalid", "true");
        input.setAttribute("aria-describedby", slot.id);
      }
    });
    show(box, true);
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
        .then(function (response) {
          return response.json().catch(function () {
            return { ok: false, message: block.querySelector(".signup-error-title").textContent, errors: {} };
          });
        })
        .then(function (data) {
          if (data.ok) {
            succeed(block, form);
          } else {
            showErrors(block, data.message, data.errors);
          }
        })
        .catch(function () {
          // Offline, or the server did not answer: let the browser post the
          // form itself and show the server's page.
          form.submit();
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
