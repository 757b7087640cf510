/* CX Inbox console: keyboard shortcuts (j/k move, r reply, e close, ? help) and quick replies.
   Loaded from /static/ (the CSP allows no inline script). Once the shortcuts listen, the page's
   root carries data-shortcuts="ready" (what a test waits for before pressing one). */
(function () {
  "use strict";

  function typing(element) {
    return element && (element.isContentEditable || /^(INPUT|TEXTAREA|SELECT)$/.test(element.tagName));
  }

  function move(step) {
    var links = Array.prototype.slice.call(document.querySelectorAll("#conversation-list .conversations a"));
    if (!links.length) return;
    var current = links.findIndex(function (a) { return a.getAttribute("aria-current") === "page"; });
    var next = current < 0 ? 0 : Math.min(links.length - 1, Math.max(0, current + step));
    if (next !== current) links[next].click();
  }

  function toggleHelp() {
    var help = document.getElementById("shortcuts-help");
    if (help) help.hidden = !help.hidden;
  }

  document.addEventListener("keydown", function (event) {
    if (event.ctrlKey || event.metaKey || event.altKey) return;
    var help = document.getElementById("shortcuts-help");
    if (event.key === "Escape" && help && !help.hidden) { help.hidden = true; return; }
    if (typing(event.target)) return;
    var target;
    if (event.key === "j") move(1);
    else if (event.key === "k") move(-1);
    else if (event.key === "r" && (target = document.getElementById("reply-text"))) { event.preventDefault(); target.focus(); }
    else if (event.key === "e" && (target = document.getElementById("close-conversation"))) target.click();
    else if (event.key === "?") toggleHelp();
  });

  document.addEventListener("click", function (event) {
    var choice = event.target.closest("[data-quick-reply]");
    if (choice) {
      var box = document.getElementById("reply-text");
      box.value = choice.getAttribute("data-quick-reply");
      box.focus();
      document.getElementById("quick-replies").textContent = "";
    }
    if (event.target.closest("[data-toggle-help]")) toggleHelp();
  });

  document.documentElement.setAttribute("data-shortcuts", "ready");
})();
