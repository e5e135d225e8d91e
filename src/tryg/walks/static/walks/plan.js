/* Planning a walk: draw the route on the area's map (tap the points in order). Without
   JavaScript the route is uploaded as GeoJSON or GPX instead. */
(function () {
  "use strict";
  var box = document.getElementById("route-map");
  var area = document.getElementById("id_area_code");
  var hidden = document.getElementById("id_route_drawn");
  if (!box || !area || !hidden || !window.fetch) { return; }
  var tools = document.getElementById("route-tools");
  var count = document.getElementById("route-count");
  var points = [];
  var map = null;

  function update() {
    hidden.value = points.length >= 2
      ? JSON.stringify({type: "LineString", coordinates: points}) : "";
    if (map) { map.setRoute(points); }
    count.textContent = String(points.length);
  }

  function load() {
    var code = area.value.trim();
    if (!code) { return; }
    fetch(box.getAttribute("data-map-base") + "omraade/" + encodeURIComponent(code) + ".json",
          {credentials: "same-origin", headers: {"Accept": "application/json"}})
      .then(function (r) { return r.ok ? r.json() : null; })
      .then(function (data) {
        while (box.firstChild) { box.removeChild(box.firstChild); }
        if (!data || !data.area) { box.hidden = true; tools.hidden = true; return; }
        map = new window.TrygWalkMap(box, {area: data.area, route: null}, function (lonlat) {
          points.push([Number(lonlat[0].toFixed(6)), Number(lonlat[1].toFixed(6))]);
          map.mark(lonlat, false);
          update();
        });
        tools.hidden = !map.ok;
        points = [];
        update();
      });
  }

  document.getElementById("route-undo").addEventListener("click", function () {
    points.pop();
    update();
  });
  area.setAttribute("list", "area-codes");
  area.addEventListener("change", load);
  load();
}());
