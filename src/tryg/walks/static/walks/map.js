/* A small map of tryg's own geometries (area outline, route, points) drawn as SVG.
   No tiles, no third-party service. Used by plan.js (draw a route) and record.js (tap a
   position). Exposes window.TrygWalkMap. */
(function () {
  "use strict";
  var NS = "http://www.w3.org/2000/svg";
  var WIDTH = 600;

  function rings(geometry) {
    if (!geometry) { return []; }
    if (geometry.type === "Polygon") { return geometry.coordinates; }
    if (geometry.type === "MultiPolygon") {
      return geometry.coordinates.reduce(function (all, poly) { return all.concat(poly); }, []);
    }
    if (geometry.type === "LineString") { return [geometry.coordinates]; }
    if (geometry.type === "Point") { return [[geometry.coordinates]]; }
    if (geometry.type === "FeatureCollection") {
      return geometry.features.reduce(function (all, f) { return all.concat(rings(f.geometry)); }, []);
    }
    if (geometry.type === "Feature") { return rings(geometry.geometry); }
    return [];
  }

  function TrygWalkMap(container, data, onTap) {
    var area = rings(data.area);
    var route = data.route ? data.route.coordinates : [];
    var all = area.reduce(function (a, r) { return a.concat(r); }, []).concat(route);
    if (all.length === 0) { this.ok = false; return; }
    var minX = Infinity, minY = Infinity, maxX = -Infinity, maxY = -Infinity;
    all.forEach(function (p) {
      minX = Math.min(minX, p[0]); maxX = Math.max(maxX, p[0]);
      minY = Math.min(minY, p[1]); maxY = Math.max(maxY, p[1]);
    });
    var pad = Math.max(maxX - minX, maxY - minY, 0.002) * 0.05;
    minX -= pad; maxX += pad; minY -= pad; maxY += pad;
    this.k = Math.cos(((minY + maxY) / 2) * Math.PI / 180);
    this.minX = minX; this.maxY = maxY;
    this.scale = WIDTH / Math.max((maxX - minX) * this.k, 1e-9);
    this.height = Math.max(120, Math.round((maxY - minY) * this.scale));
    var svg = document.createElementNS(NS, "svg");
    svg.setAttribute("viewBox", "0 0 " + WIDTH + " " + this.height);
    svg.setAttribute("role", "img");
    svg.setAttribute("class", "walk-svg");
    svg.setAttribute("aria-label", container.getAttribute("data-label") || "map");
    this.svg = svg;
    var self = this;
    area.forEach(function (ring) { self.path(ring, true, "area"); });
    this.routePath = this.path(route, false, "route");
    this.marks = document.createElementNS(NS, "g");
    svg.appendChild(this.marks);
    if (onTap) {
      svg.addEventListener("click", function (e) {
        var box = svg.getBoundingClientRect();
        var x = (e.clientX - box.left) * WIDTH / box.width;
        var y = (e.clientY - box.top) * self.height / box.height;
        onTap(self.unproject([x, y]));
      });
    }
    container.appendChild(svg);
    container.hidden = false;
    this.ok = true;
  }

  TrygWalkMap.prototype.project = function (p) {
    return [(p[0] - this.minX) * this.k * this.scale, (this.maxY - p[1]) * this.scale];
  };
  TrygWalkMap.prototype.unproject = function (xy) {
    return [this.minX + xy[0] / (this.k * this.scale), this.maxY - xy[1] / this.scale];
  };
  TrygWalkMap.prototype.d = function (points, closed) {
    var self = this;
    var d = points.map(function (p, i) {
      var xy = self.project(p);
      return (i ? "L" : "M") + xy[0].toFixed(1) + " " + xy[1].toFixed(1);
    }).join(" ");
    return d + (closed && points.length ? " Z" : "");
  };
  TrygWalkMap.prototype.path = function (points, closed, cls) {
    var el = document.createElementNS(NS, "path");
    el.setAttribute("d", this.d(points, closed));
    el.setAttribute("class", cls);
    this.svg.appendChild(el);
    return el;
  };
  TrygWalkMap.prototype.setRoute = function (points) {
    this.routePath.setAttribute("d", this.d(points, false));
  };
  TrygWalkMap.prototype.mark = function (lonlat, replace) {
    if (replace) { while (this.marks.firstChild) { this.marks.removeChild(this.marks.firstChild); } }
    var xy = this.project(lonlat);
    var c = document.createElementNS(NS, "circle");
    c.setAttribute("cx", xy[0].toFixed(1));
    c.setAttribute("cy", xy[1].toFixed(1));
    c.setAttribute("r", "7");
    c.setAttribute("class", "mark");
    this.marks.appendChild(c);
  };

  window.TrygWalkMap = TrygWalkMap;
}());
