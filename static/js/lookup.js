// Look-up fields (templates/macros/lookup.html) as comboboxes: after 2 typed characters the
// field asks its endpoint for matches (at most 20, JSON) and lists them under itself;
// up/down move through them, Enter chooses one (its id goes into the hidden field, its
// label into the text), Escape closes the list. Without this script the text field is
// submitted as typed and the server matches it.
(function () {
  "use strict";
  var DELAY = 200;
  var MIN = 2;

  function setUp(box) {
    var input = box.querySelector("[data-lookup-input]");
    var hidden = box.querySelector("[data-lookup-id]");
    var status = box.querySelector("[data-lookup-status]");
    var source = box.getAttribute("data-lookup-source");
    if (!input || !hidden || !source) return;
    var listId = input.id + "-matches";
    var list = document.createElement("ul");
    list.id = listId;
    list.setAttribute("role", "listbox");
    list.setAttribute("aria-label", box.querySelector("label") ? box.querySelector("label").textContent : "");
    list.className = "lookup-matches list-group position-absolute w-100 shadow-sm";
    list.style.zIndex = "1050";
    list.hidden = true;
    box.appendChild(list);
    input.setAttribute("role", "combobox");
    input.setAttribute("aria-autocomplete", "list");
    input.setAttribute("aria-expanded", "false");
    input.setAttribute("aria-controls", listId);

    var timer = null;
    var asked = 0;
    var active = -1;
    var chosenLabel = input.value;

    function say(text) { status.textContent = text; }

    function options() { return list.querySelectorAll("[role=option]"); }

    function close() {
      list.hidden = true;
      input.setAttribute("aria-expanded", "false");
      input.removeAttribute("aria-activedescendant");
      active = -1;
    }

    function highlight(index) {
      var all = options();
      if (!all.length) return;
      active = (index + all.length) % all.length;
      all.forEach(function (option, i) {
        var on = i === active;
        option.setAttribute("aria-selected", on ? "true" : "false");
        option.classList.toggle("active", on);
      });
      input.setAttribute("aria-activedescendant", all[active].id);
      all[active].scrollIntoView({block: "nearest"});
    }

    function choose(option) {
      hidden.value = option.getAttribute("data-id");
      input.value = option.getAttribute("data-label");
      chosenLabel = input.value;
      close();
      say(input.value);
    }

    function show(results, message) {
      list.textContent = "";
      results.forEach(function (result, i) {
        var option = document.createElement("li");
        option.id = listId + "-" + i;
        option.setAttribute("role", "option");
        option.setAttribute("aria-selected", "false");
        option.setAttribute("data-id", result.id);
        option.setAttribute("data-label", result.label);
        option.className = "list-group-item list-group-item-action py-1 small";
        option.textContent = result.label;
        if (result.detail) {
          var detail = document.createElement("span");
          detail.className = "d-block text-body-secondary";
          detail.textContent = result.detail;
          option.appendChild(detail);
        }
        // mousedown, not click: the field keeps its focus.
        option.addEventListener("mousedown", function (event) {
          event.preventDefault();
          choose(option);
        });
        list.appendChild(option);
      });
      if (results.length) {
        list.hidden = false;
        input.setAttribute("aria-expanded", "true");
        say(box.getAttribute("data-lookup-count").replace("{n}", results.length));
      } else {
        close();
        say(message || box.getAttribute("data-lookup-empty"));
      }
    }

    function ask() {
      var query = input.value.trim();
      if (query.length < MIN) { close(); say(box.getAttribute("data-lookup-short")); return; }
      var mine = ++asked;
      var url = source + (source.indexOf("?") < 0 ? "?" : "&") + "q=" + encodeURIComponent(query);
      fetch(url, {headers: {"Accept": "application/json"}, credentials: "same-origin"})
        .then(function (response) {
          if (!response.ok && response.status !== 400) throw new Error(String(response.status));
          return response.json();
        })
        // A refused query (400) answers {"detail": why}: no matches, and the reason.
        .then(function (answer) {
          if (mine === asked) show(answer.results || [], answer.message || answer.detail);
        })
        .catch(function () { if (mine === asked) { close(); say(box.getAttribute("data-lookup-failed")); } });
    }

    input.addEventListener("input", function () {
      // A text typed over a chosen match is searched as text, unless chosen again.
      if (input.value !== chosenLabel) hidden.value = "";
      clearTimeout(timer);
      timer = setTimeout(ask, DELAY);
    });
    input.addEventListener("keydown", function (event) {
      var open = !list.hidden && options().length;
      if (event.key === "ArrowDown") {
        event.preventDefault();
        if (open) highlight(active + 1); else ask();
      } else if (event.key === "ArrowUp") {
        if (open) { event.preventDefault(); highlight(active - 1); }
      } else if (event.key === "Enter") {
        if (open && active >= 0) { event.preventDefault(); choose(options()[active]); }
      } else if (event.key === "Escape") {
        if (open) { event.preventDefault(); close(); }
      }
    });
    input.addEventListener("blur", function () { setTimeout(close, 100); });
  }

  document.querySelectorAll("[data-lookup-source]").forEach(setUp);
})();
