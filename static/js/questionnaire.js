/* The portal's questionnaire page.
 *
 * - When the server sent the page back with missing answers, the summary at
 *   the top takes the focus, so a screen reader reads it first.
 * - A link in the summary focuses the first option of its question and
 *   brings the whole question (its text included) into view.
 *
 * Without this file the page works the same: the summary is at the top and
 * its links jump to the questions.
 */
(function () {
  "use strict";

  var summary = document.getElementById("error-summary");
  if (!summary) {
    return;
  }
  summary.focus();
  summary.addEventListener("click", function (event) {
    var link = event.target.closest("a[href^='#']");
    if (!link) {
      return;
    }
    var target = document.getElementById(link.getAttribute("href").slice(1));
    if (!target) {
      return;
    }
    event.preventDefault();
    var question = target.closest("fieldset") || target;
    question.scrollIntoView({ block: "start" });
    target.focus({ preventScroll: true });
  });
})();
