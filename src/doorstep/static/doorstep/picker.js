// Type-ahead center picker: searches the directory API as you type (names, places, pinyin),
// arrow keys and Enter choose, the chosen id goes into the hidden field. ARIA 1.2 combobox.
(function () {
  "use strict";
  document.querySelectorAll(".center-picker").forEach(function (box) {
    var input = box.querySelector("input[role=combobox]");
    var hidden = box.querySelector("input[type=hidden]");
    var list = box.querySelector("[role=listbox]");
    var lang = document.documentElement.lang;
    var timer = null, items = [], active = -1, asked = "";
    function close() { list.hidden = true; input.setAttribute("aria-expanded", "false"); input.removeAttribute("aria-activedescendant"); active = -1; }
    function choose(i) {
      var c = items[i];
      if (!c) { return; }
      hidden.value = c.id;
      input.value = c.label;
      close();
      hidden.dispatchEvent(new Event("change", { bubbles: true }));
    }
    function mark(i) {
      active = i;
      list.querySelectorAll("[role=option]").forEach(function (li, j) {
        li.setAttribute("aria-selected", j === i ? "true" : "false");
      });
      if (i >= 0) { input.setAttribute("aria-activedescendant", list.children[i].id); }
    }
    function render() {
      list.textContent = "";
      if (!items.length) {
        var none = document.createElement("li");
        none.textContent = box.dataset.none;
        none.className = "picker-none";
        list.appendChild(none);
      }
      items.forEach(function (c, i) {
        var li = document.createElement("li");
        li.id = input.id + "-opt-" + i;
        li.setAttribute("role", "option");
        li.setAttribute("aria-selected", "false");
        li.textContent = c.label;
        var place = document.createElement("span");
        place.className = "hint";
        place.textContent = " · " + c.place;
        li.appendChild(place);
        li.addEventListener("mousedown", function (e) { e.preventDefault(); choose(i); });
        list.appendChild(li);
      });
      list.hidden = false;
      input.setAttribute("aria-expanded", "true");
    }
    function search() {
      var q = input.value.trim();
      if (!q) { items = []; close(); return; }
      asked = q;
      fetch(box.dataset.api + "?limit=8&q=" + encodeURIComponent(q), { headers: { Accept: "application/json" } })
        .then(function (r) { return r.ok ? r.json() : { items: [] }; })
        .then(function (body) {
          if (asked !== q) { return; }
          items = body.items.map(function (c) {
            return {
              id: c.id,
              label: lang === "en" && c.name_en ? c.name_en : c.display_name,
              place: c.subdistrict ? c.district + " " + c.subdistrict : c.district
            };
          });
          render();
        }).catch(function () {});
    }
    input.addEventListener("input", function () {
      hidden.value = "";  // typing again undoes the choice until one is made
      clearTimeout(timer);
      timer = setTimeout(search, 200);
    });
    input.addEventListener("keydown", function (e) {
      if (list.hidden) { return; }
      if (e.key === "ArrowDown") { e.preventDefault(); mark(Math.min(active + 1, items.length - 1)); }
      else if (e.key === "ArrowUp") { e.preventDefault(); mark(Math.max(active - 1, 0)); }
      else if (e.key === "Enter" && active >= 0) { e.preventDefault(); choose(active); }
      else if (e.key === "Escape") { close(); }
    });
    input.addEventListener("blur", function () { setTimeout(close, 150); });
    // A cleared box clears the choice (an empty picker means "any center" in a filter).
    input.addEventListener("search", function () { if (!input.value) { hidden.value = ""; hidden.dispatchEvent(new Event("change", { bubbles: true })); } });
  });
})();
