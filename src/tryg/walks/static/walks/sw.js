/* Service worker of the walk recording pages (scope /tryghedsvandringer/).

   GET requests for the recording pages, their map and the static files go to the network
   first; what comes back is kept, and served from the cache when there is no connection or the
   site answers with a server error (down behind its proxy).
   Other pages are not kept (they hold data the phone need not store). POSTs are never
   touched: record.js queues them itself. */
"use strict";
var CACHE = "tryg-walks-v1";

self.addEventListener("install", function () { self.skipWaiting(); });
self.addEventListener("activate", function (event) { event.waitUntil(self.clients.claim()); });

function keep(url) {
  return /\/registrer\/$/.test(url.pathname) || /\/tryghedsvandringer\/p\/[^/]+\/$/.test(url.pathname)
    || /\/kort\.json$/.test(url.pathname) || url.pathname.indexOf("/static/") === 0;
}

function cached(request) {
  return caches.match(request, {ignoreVary: true});
}

self.addEventListener("fetch", function (event) {
  var request = event.request;
  if (request.method !== "GET") { return; }
  var url = new URL(request.url);
  if (url.origin !== self.location.origin || !keep(url)) { return; }
  event.respondWith(fetch(request).then(function (response) {
    if (response.ok && !response.redirected) {
      var copy = response.clone();
      caches.open(CACHE).then(function (cache) { cache.put(request, copy); });
      return response;
    }
    if (response.status >= 500) {
      // The site is down behind its proxy (502, 503, 504): the kept copy, if there is one.
      return cached(request).then(function (hit) { return hit || response; });
    }
    return response;
  }, function () {
    return cached(request).then(function (hit) { return hit || Response.error(); });
  }));
});
