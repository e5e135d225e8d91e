/* Recording findings on a phone, with or without a connection.

   The form works without JavaScript (a plain POST). With it, a submitted observation is first
   put in the browser's IndexedDB queue (photos included, as Blobs) and then sent; whatever
   cannot be sent now stays queued across reloads and is sent when the browser is back online.
   Each observation carries its idempotency key, so a repeat after a lost answer is ignored by
   the server. A service worker (sw.js, served at /tryghedsvandringer/sw.js) keeps the page,
   its scripts and the area map for use offline. What is typed but not yet saved is kept as a
   draft in localStorage. */
(function () {
  "use strict";
  var root = document.getElementById("record");
  var form = document.getElementById("finding-form");
  if (!root || !form || !window.indexedDB || !window.fetch || !window.FormData) { return; }
  var status = document.getElementById("queue-status");
  var list = document.getElementById("recorded");
  var pageUrl = root.getAttribute("data-page");
  var mapUrl = root.getAttribute("data-map");
  var DB = "tryg-walks";
  var STORE = "queue";
  var DRAFT = "tryg-walks-draft:" + pageUrl;
  var CACHE = "tryg-walks-v1";
  var sending = false;
  var again = false;  // asked to send while sending: go over the queue once more
  var lastError = "";

  function msg(name) { return root.getAttribute("data-msg-" + name) || ""; }

  function openDb() {
    return new Promise(function (resolve, reject) {
      var req = indexedDB.open(DB, 1);
      req.onupgradeneeded = function () { req.result.createObjectStore(STORE, {keyPath: "key"}); };
      req.onsuccess = function () { resolve(req.result); };
      req.onerror = function () { reject(req.error); };
    });
  }

  function store(mode, work) {
    return openDb().then(function (db) {
      return new Promise(function (resolve, reject) {
        var t = db.transaction(STORE, mode);
        var req = work(t.objectStore(STORE));
        t.oncomplete = function () { db.close(); resolve(req ? req.result : undefined); };
        t.onerror = function () { db.close(); reject(t.error); };
      });
    });
  }

  function queued() {
    return store("readonly", function (s) { return s.getAll(); }).then(function (items) {
      return (items || []).filter(function (i) { return i.page === pageUrl; });
    });
  }

  function show(extra) {
    return queued().then(function (items) {
      var text = items.length ? msg("waiting") + " " + items.length : "";
      if (!navigator.onLine) { text = msg("offline") + (text ? " " + text : ""); }
      if (extra) { text = extra + (text ? " " + text : ""); }
      if (lastError) { text += " " + msg("error") + " " + lastError; }
      status.textContent = text;
      root.setAttribute("data-queued", String(items.length));
    });
  }

  function newKey() {
    if (window.crypto && crypto.randomUUID) { return crypto.randomUUID().replace(/-/g, ""); }
    var a = new Uint8Array(16);
    crypto.getRandomValues(a);
    return Array.prototype.map.call(a, function (b) { return ("0" + b.toString(16)).slice(-2); }).join("");
  }

  function addRecorded(text) {
    var none = list.querySelector(".none");
    if (none) { list.removeChild(none); }
    var li = document.createElement("li");
    li.textContent = text;
    list.insertBefore(li, list.firstChild);
  }

  function send(item) {
    var body = new FormData();
    item.fields.forEach(function (pair) { body.append(pair[0], pair[1]); });
    item.files.forEach(function (f) { body.append(f.field, f.blob, f.name); });
    return fetch(item.page, {method: "POST", body: body, credentials: "same-origin",
                             headers: {"Accept": "application/json"}})
      .then(function (response) {
        if (response.ok) {
          return store("readwrite", function (s) { return s.delete(item.key); }).then(function () {
            addRecorded(item.summary);
            return true;
          });
        }
        if (response.status === 400 || response.status === 409) {
          // Refused for good (a photo that is not an image; 409: the walk is closed for new
          // findings): drop it, say why.
          return response.json().catch(function () { return {}; }).then(function (data) {
            var errors = data.errors || {};
            lastError = Object.keys(errors).map(function (k) {
              return errors[k].map(function (e) { return e.message; }).join(" ");
            }).join(" ");
            return store("readwrite", function (s) { return s.delete(item.key); })
              .then(function () { return true; });
          });
        }
        return false;  // 403 (logged out), 5xx: keep it and try later
      });
  }

  // Keep the page as it is now (the findings just sent listed, a fresh key in its form) for a
  // reload without a connection; the service worker answers such a reload from this copy.
  function keepPage() {
    if (!window.caches || !navigator.serviceWorker || !navigator.serviceWorker.controller) {
      return Promise.resolve();
    }
    return caches.open(CACHE).then(function (cache) { return cache.add(pageUrl); })
      .catch(function () { /* offline again: the older copy stays */ });
  }

  function flush() {
    if (sending) { again = true; return Promise.resolve(); }
    if (!navigator.onLine) { return show(); }
    sending = true;
    again = false;
    root.setAttribute("data-sending", "1");
    var sent = 0;
    return queued().then(function (items) {
      var chain = Promise.resolve(true);
      items.sort(function (a, b) { return a.at - b.at; }).forEach(function (item) {
        chain = chain.then(function (go) {
          return go ? send(item).then(function (ok) { if (ok) { sent += 1; } return ok; }) : false;
        });
      });
      return chain;
    }).catch(function () { return false; }).then(function () {
      return show();
    }).then(function () {
      return sent ? keepPage() : undefined;
    }).catch(function () { /* the queue could not be read: try again later */ }).then(function () {
      sending = false;
      if (again) { return flush(); }
      root.setAttribute("data-sending", "0");
    });
  }

  function draftFields() {
    return Array.prototype.filter.call(form.elements, function (el) {
      return el.name && el.type !== "file" && el.type !== "hidden" && el.type !== "submit";
    });
  }

  function saveDraft() {
    var draft = {};
    draftFields().forEach(function (el) { draft[el.name] = el.value; });
    try { localStorage.setItem(DRAFT, JSON.stringify(draft)); } catch (e) { /* full */ }
  }

  function restoreDraft() {
    var draft = null;
    try { draft = JSON.parse(localStorage.getItem(DRAFT) || "null"); } catch (e) { draft = null; }
    if (!draft) { return; }
    draftFields().forEach(function (el) {
      if (Object.prototype.hasOwnProperty.call(draft, el.name)) { el.value = draft[el.name]; }
    });
  }

  form.addEventListener("input", saveDraft);
  form.addEventListener("change", saveDraft);
  form.addEventListener("submit", function (event) {
    event.preventDefault();
    var data = new FormData(form);
    var fields = [];
    var files = [];
    data.forEach(function (value, name) {
      if (value instanceof Blob) {
        if (value.size > 0) { files.push({field: name, blob: value, name: value.name || "photo.jpg"}); }
      } else {
        fields.push([name, value]);
      }
    });
    var key = form.elements.idempotency_key.value || newKey();
    var category = form.elements.category;
    var label = category.options[category.selectedIndex].text;
    var item = {key: key, page: pageUrl, at: Date.now(), fields: fields, files: files,
                summary: label + ": " + (form.elements.text.value || "").slice(0, 80)};
    store("readwrite", function (s) { return s.put(item); }).then(function () {
      form.reset();
      form.elements.idempotency_key.value = newKey();
      try { localStorage.removeItem(DRAFT); } catch (e) { /* ignore */ }
      lastError = "";
      return show(msg("queued"));
    }).then(flush);
  });

  var gps = document.getElementById("use-gps");
  function place(lon, lat) {
    form.elements.lat.value = lat.toFixed(6);
    form.elements.lon.value = lon.toFixed(6);
    saveDraft();
  }
  if (gps && navigator.geolocation) {
    gps.parentNode.hidden = false;
    gps.addEventListener("click", function () {
      navigator.geolocation.getCurrentPosition(function (p) {
        place(p.coords.longitude, p.coords.latitude);
      }, function () { /* refused or unavailable: type it or tap the map */ },
      {enableHighAccuracy: true, timeout: 15000});
    });
  }

  var mapBox = document.getElementById("walk-map");
  fetch(mapUrl, {credentials: "same-origin", headers: {"Accept": "application/json"}})
    .then(function (r) { return r.ok ? r.json() : null; })
    .then(function (data) {
      if (!data || !window.TrygWalkMap) { return; }
      var map = new window.TrygWalkMap(mapBox, data, function (lonlat) {
        place(lonlat[0], lonlat[1]);
        map.mark(lonlat, true);
      });
    }).catch(function () { /* no map offline before the first visit */ });

  if ("serviceWorker" in navigator && root.getAttribute("data-sw")) {
    navigator.serviceWorker.register(root.getAttribute("data-sw")).then(function () {
      return navigator.serviceWorker.ready;
    }).then(function () {
      // Keep this page, its files and the map for use offline (the first visit was not yet
      // seen by the service worker).
      var urls = [pageUrl, mapUrl].concat(
        (root.getAttribute("data-static") || "").split(" ").filter(Boolean));
      return caches.open(CACHE).then(function (cache) { return cache.addAll(urls); });
    }).then(function () {
      root.setAttribute("data-offline-ready", "1");
    }).catch(function () { /* offline use is an enhancement */ });
  }

  // The key in the page may be one already used: the service worker can answer a reload from
  // an older copy of the page. A key of the phone's own for every new observation.
  form.elements.idempotency_key.value = newKey();
  window.addEventListener("online", flush);
  document.addEventListener("visibilitychange", function () {
    if (document.visibilityState === "visible") { flush(); }
  });
  window.addEventListener("offline", function () { show(); });
  window.setInterval(function () { if (navigator.onLine) { flush(); } }, 20000);
  restoreDraft();
  flush();
}());
