/* Service worker of the walk recording pages (scope /tryghedsvandringer/).

   GET requests for the recording pages, their map and the static files go to the network
   first; what comes back is kept, and served from the cache when there is no connection.
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

self.addEventListener("fetch", function (event) {
  var request = event.request;
  if (request.method !== "GET") { return; }
  var url = new URL(request.url);
  if (url.origin !== self.location.origin || !keep(url)) { return; }
  event.respondWith(fetch(request).then(function (response) {
    if (response.ok && !response.redirected) {
      var copy = response.clone();
      caches.open(CACHE).then(function (cache) { cache.put(request, copy); });
    }
    return response;
  }).catch(function () {
    return caches.match(request, {ignoreVary: true}).then(function (hit) {
      return hit || Response.error();
    });
  }));
});
