/* Sortable tables: an enhancement of the public pages, which work without it.
 *
 * A table marked data-sortable gets a button in each header cell marked data-sort
 * ("text" or "number"); the button sorts the rows by that column, ascending then descending,
 * and the header cell says so in aria-sort for screen readers. Numbers are read from the cell's
 * <data value="..."> element (the printed number is formatted for the page's language); rows
 * without a value (suppressed results) stay at the end either way.
 */
(function () {
  "use strict";
  var lang = document.documentElement.lang || "da";

  function key(row, column, kind) {
    var cell = row.cells[column];
    if (!cell || cell.colSpan > 1) { return null; }
    if (kind === "number") {
      var data = cell.querySelector("data");
      var value = data ? parseFloat(data.value) : NaN;
      return isNaN(value) ? null : value;
    }
    var text = cell.textContent.trim();
    return text === "" ? null : text;
  }

  function compare(a, b, kind) {
    if (kind === "number") { return a - b; }
    return a.localeCompare(b, lang);
  }

  function sortBy(table, header, column, kind) {
    var ascending = header.getAttribute("aria-sort") !== "ascending";
    Array.prototype.forEach.call(table.tHead.rows[0].cells, function (th) {
      th.removeAttribute("aria-sort");
    });
    header.setAttribute("aria-sort", ascending ? "ascending" : "descending");
    var body = table.tBodies[0];
    var rows = Array.prototype.slice.call(body.rows).map(function (row, i) {
      return { row: row, key: key(row, column, kind), i: i };
    });
    rows.sort(function (x, y) {
      if (x.key === null || y.key === null) {
        return (x.key === null) - (y.key === null) || x.i - y.i;
      }
      var order = compare(x.key, y.key, kind);
      return (ascending ? order : -order) || x.i - y.i;
    });
    rows.forEach(function (r) { body.appendChild(r.row); });
  }

  document.querySelectorAll("table[data-sortable]").forEach(function (table) {
    if (!table.tHead || !table.tBodies.length || table.tBodies[0].rows.length < 2) { return; }
    var hint = table.getAttribute("data-sort-hint") || "";
    Array.prototype.forEach.call(table.tHead.rows[0].cells, function (th, column) {
      var kind = th.getAttribute("data-sort");
      if (!kind) { return; }
      var button = document.createElement("button");
      button.type = "button";
      button.className = "sort";
      while (th.firstChild) { button.appendChild(th.firstChild); }
      if (hint) { button.title = hint; }
      th.appendChild(button);
      button.addEventListener("click", function () { sortBy(table, th, column, kind); });
    });
  });
}());
