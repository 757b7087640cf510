/* CX Inbox console: the conversation list's live rows, and a conversation page's own events
   (loaded from /static/: the CSP allows no inline script).

   A conversation's event on the page's stream (htmx's SSE extension triggers sse:<type> on the
   element [data-live-rows], which names the row address and the list's filters) fetches that one
   row, GET /inbox/row/{id}?<filters>: the server answers the row as the list shows it when the
   conversation is in the list's view, or no row when it is not, and the view's counts (#list-counts).
   The row then replaces its old self, in its place by its order key (data-order: rows are in
   descending key order), or the old one is dropped. A row that sorts before the first row of a
   later page, or after the last row of a page with more after it, belongs to another page: only
   its old self is dropped. A deleted conversation's fetch finds no row. A fetch in flight for the same conversation is abandoned for the newer
   one. The whole list is fetched only when the stream opens and after the person's own actions. */
(function () {
  "use strict";

  var inFlight = {};

  function payload(event) {
    try {
      return JSON.parse(event.detail.data).data || {};
    } catch (error) {
      return {};
    }
  }

  function rowOf(list, id) {
    return list.querySelector('li[data-id="' + CSS.escape(id) + '"]');
  }

  function belongsHere(list, key) {
    var rows = list.children;
    if (list.getAttribute("data-first") !== "true" && (!rows.length || key > rows[0].getAttribute("data-order"))) {
      return false;
    }
    return !(list.getAttribute("data-more") === "true" && rows.length && key < rows[rows.length - 1].getAttribute("data-order"));
  }

  function place(list, row) {
    var key = row.getAttribute("data-order");
    if (!belongsHere(list, key)) return;
    var after = Array.prototype.find.call(list.children, function (li) { return li.getAttribute("data-order") < key; });
    list.insertBefore(row, after || null);
    var empty = document.querySelector("#conversation-list .empty");
    if (empty) empty.remove();
  }

  function apply(id, html) {
    var answer = document.createElement("template");
    answer.innerHTML = html;
    var counts = answer.content.getElementById("list-counts");
    var list = document.querySelector("#conversation-list ul.conversations");
    if (!counts || !list) return; /* not the row's answer (e.g. the sign-in page): keep the list */
    var shown = document.getElementById("list-counts");
    if (shown) shown.replaceWith(counts);
    var old = rowOf(list, id);
    if (old) old.remove();
    var row = answer.content.querySelector("li[data-id]");
    if (row) place(list, row);
  }

  function refreshRow(source, id) {
    if (inFlight[id]) inFlight[id].abort();
    var control = (inFlight[id] = new AbortController());
    var url = source.getAttribute("data-live-rows") + encodeURIComponent(id) + source.getAttribute("data-query");
    fetch(url, { credentials: "same-origin", signal: control.signal })
      .then(function (response) { return response.ok && !response.redirected ? response.text() : ""; })
      .then(function (html) { if (html) apply(id, html); })
      .catch(function () { /* abandoned for a newer fetch, or offline: the reconnect refreshes the list */ })
      .finally(function () { if (inFlight[id] === control) delete inFlight[id]; });
  }

  function onChange(event) {
    var source = event.target.closest("[data-live-rows]");
    var id = payload(event).id;
    if (source && typeof id === "string") refreshRow(source, id);
  }

  /* On a conversation's page ([data-live-conversation] names it), that conversation's events go on
     to the head, the timeline and the read marker as live-conversation-updated,
     live-message-created and live-message-updated (on the body): the organization's other
     conversations' events refresh nothing there. */
  function onConversationEvent(event) {
    var source = event.target.closest("[data-live-conversation]");
    if (!source) return;
    var data = payload(event);
    var kind = event.type.slice(4); /* without "sse:" */
    var id = kind.indexOf("message.") === 0 ? data.conversationId : data.id;
    if (id === source.getAttribute("data-live-conversation")) htmx.trigger(document.body, "live-" + kind.replace(".", "-"));
  }

  ["sse:conversation.updated", "sse:message.created", "sse:message.updated"].forEach(function (name) {
    document.addEventListener(name, onConversationEvent);
  });
  document.addEventListener("sse:conversation.created", onChange);
  document.addEventListener("sse:conversation.updated", onChange);
  document.addEventListener("sse:conversation.deleted", onChange);
})();
