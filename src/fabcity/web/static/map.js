// The map page: nodes in the viewport from /api/v1/nodes (summaries, at most 500, nearest the
// centre first), a list kept in step with the map, filters kept in the URL so a view can be shared.
// Places without a point (most are known only by their gu) come from located=false: each district
// gets one marker at its centre, and they are listed when that centre is in view; a place with no
// location at all is always listed. All text from the data is set with textContent; the only HTML
// parsed is the pop-up card the server renders (and escapes), /nodes/{slug}/card.
// "Free on …" (kind, day, from, to in Seoul time) asks /api/v1/resources/free around the view (or in
// the chosen gu) and keeps only the places with such a resource free for the whole period, each listed
// with links to those resources; without JavaScript the same form opens /free with the same query.
(function () {
  "use strict";

  const mapElement = document.getElementById("map");
  const form = document.getElementById("filters");
  const list = document.getElementById("results");
  const count = document.getElementById("result-count");
  const lang = mapElement.dataset.lang;
  const typeLabels = JSON.parse(mapElement.dataset.typeLabels);
  const FILTERS = ["q", "type", "process", "material", "gu", "access", "open_now"];
  const freeForm = document.getElementById("free-filter");
  const freeStatus = document.getElementById("free-status");
  const FREE = ["kind", "date", "start", "end"];
  const FREE_RADIUS_M = 50000; // the most the free search looks around a point
  const LIMIT = 500;
  const SEOUL = L.latLngBounds([37.413, 126.764], [37.715, 127.184]);
  const PHONE = window.matchMedia("(max-width: 899px)");

  function message(name, values, element) {
    let text = (element || mapElement).dataset["msg" + name];
    for (const key in values || {}) text = text.replace("{" + key + "}", values[key]);
    return text;
  }

  function pick(pair) {
    if (!pair) return "";
    return (lang === "ko" ? pair.ko || pair.en : pair.en || pair.ko) || "";
  }

  // --- the map and its base layers ---------------------------------------------------------
  const url = new URL(window.location.href);
  const viewGiven = url.searchParams.has("lat");
  // On a phone the filters fold away so the map is on the first screen; open by default elsewhere.
  if (PHONE.matches) document.getElementById("filter-panel").open = false;
  // Quarter zoom steps, so that the whole of Seoul fills a 390-px phone as well as a desktop.
  const map = L.map(mapElement, { maxZoom: 19, zoomSnap: 0.25 });
  if (viewGiven) {
    const start = [parseFloat(url.searchParams.get("lat")), parseFloat(url.searchParams.get("lon"))];
    map.setView(start, parseFloat(url.searchParams.get("z") || "11"));
  } else {
    map.fitBounds(SEOUL);
  }
  if (mapElement.dataset.tiles) {
    L.tileLayer(mapElement.dataset.tiles, { maxZoom: 19, attribution: mapElement.dataset.tileAttribution }).addTo(map);
  }
  map.attributionControl.addAttribution("admdongkor (SGIS) · KOGL Type 1");

  // Each district's outline layer and centre, by code: a gu filter fits the map to its gu, and the
  // places known only by their district are drawn at its centre.
  const districts = {};
  function remember(boundaries) {
    for (const feature of boundaries.features) {
      districts[feature.properties.code] = { feature: feature, centre: L.latLng(feature.properties.center.lat, feature.properties.center.lon) };
    }
  }
  const gusLoaded = fetch("/api/v1/districts?level=gu&format=geojson&fields=outline")
    .then((response) => response.json())
    .then((boundaries) => {
      remember(boundaries);
      L.geoJSON(boundaries, {
        style: { color: "#5b6770", weight: 1, fillColor: "#eef1f3", fillOpacity: 0.6, className: "gu-outline" },
        interactive: false,
      }).addTo(map).bringToBack();
    });

  // Dong boundaries join the base layer once the map is close enough to tell them apart.
  const DONG_ZOOM = 13;
  let dongs = null;
  function updateDongs() {
    if (map.getZoom() < DONG_ZOOM) {
      if (dongs) dongs.remove();
      return;
    }
    if (dongs) {
      dongs.addTo(map).bringToBack();
      return;
    }
    fetch("/api/v1/districts?level=dong&format=geojson&fields=outline")
      .then((response) => response.json())
      .then((boundaries) => {
        remember(boundaries);
        dongs = L.geoJSON(boundaries, { style: { color: "#8a969e", weight: 0.6, fill: false }, interactive: false });
        updateDongs();
        drawDistricts(); // a place known by its dong moves from its gu's centre to its dong's
        render();
      });
  }
  map.on("zoomend", updateDongs);
  updateDongs();

  fetch("/api/v1/clusters")
    .then((response) => response.json())
    .then((zones) => {
      L.geoJSON(zones, {
        style: { color: "#b35c00", weight: 1, fillColor: "#ffb35c", fillOpacity: 0.25 },
        onEachFeature: (feature, layer) => {
          const box = document.createElement("div");
          const title = document.createElement("strong");
          title.textContent = pick({ ko: feature.properties.name_ko, en: feature.properties.name_en });
          const kind = document.createElement("div");
          kind.textContent = message("ClusterZone");
          box.append(title, kind);
          layer.bindPopup(box);
        },
      }).addTo(map);
    });

  const markers = L.markerClusterGroup({ showCoverageOnHover: false, maxClusterRadius: 40 });
  map.addLayer(markers);
  const districtMarkers = L.layerGroup().addTo(map);

  // --- filters <-> URL -----------------------------------------------------------------------
  for (const name of FILTERS) {
    const field = form.elements[name];
    const value = url.searchParams.get(name);
    if (!field || value === null) continue;
    if (field.type === "checkbox") field.checked = value === "true";
    else field.value = value;
  }

  for (const name of FREE) {
    const value = url.searchParams.get(name);
    if (value !== null) freeForm.elements[name].value = value;
  }
  if (freeForm.elements.kind.value) {
    document.getElementById("filter-panel").open = true;
    document.getElementById("free-panel").open = true;
  }

  function filterParams() {
    const params = new URLSearchParams();
    for (const name of FILTERS) {
      const field = form.elements[name];
      if (field.type === "checkbox") {
        if (field.checked) params.set(name, "true");
      } else if (field.value.trim()) {
        params.set(name, field.value.trim());
      }
    }
    return params;
  }

  function rememberView(params) {
    const centre = map.getCenter();
    const shared = new URLSearchParams(params);
    if (free) for (const name of FREE) shared.set(name, freeForm.elements[name].value);
    shared.set("lat", centre.lat.toFixed(5));
    shared.set("lon", centre.lng.toFixed(5));
    shared.set("z", String(map.getZoom()));
    const current = new URL(window.location.href);
    if (current.searchParams.has("lang")) shared.set("lang", current.searchParams.get("lang"));
    window.history.replaceState(null, "", "?" + shared.toString());
  }

  // --- loading what is in view ---------------------------------------------------------------
  // The list says it is busy (aria-busy) until every answer asked for has come and been shown.
  let loading = 0;
  function busy(answer) {
    loading += 1;
    list.setAttribute("aria-busy", "true");
    answer
      .catch((error) => {
        if (error.name !== "AbortError") count.textContent = String(error);
      })
      .finally(() => {
        loading -= 1;
        if (loading === 0) list.setAttribute("aria-busy", "false");
      });
  }

  let pending = null;
  let placed = { results: [], next_cursor: null };
  let unplaced = [];

  // --- free on a day, from … to … ----------------------------------------------------------------
  // free: null while the form is not used, else the free resources found by node slug.
  let free = null;
  let pendingFree = null;
  function loadFree() {
    const fields = freeForm.elements;
    if (pendingFree) pendingFree.abort();
    if (!fields.kind.value) {
      free = null;
      freeStatus.textContent = "";
      redraw();
      return;
    }
    const params = new URLSearchParams({ kind: fields.kind.value, limit: "100" });
    params.set("from", fields.date.value + "T" + fields.start.value + ":00+09:00");
    params.set("to", fields.date.value + "T" + fields.end.value + ":00+09:00");
    const gu = form.elements.gu.value;
    if (gu) {
      params.set("gu", gu);
    } else {
      const centre = map.getCenter();
      params.set("near", centre.lat.toFixed(5) + "," + centre.lng.toFixed(5));
      const reach = Math.ceil(centre.distanceTo(map.getBounds().getNorthEast()));
      params.set("radius", String(Math.min(Math.max(reach, 1), FREE_RADIUS_M)));
    }
    pendingFree = new AbortController();
    busy(
      fetch("/api/v1/resources/free?" + params.toString(), { signal: pendingFree.signal })
        .then((response) => (response.ok ? response.json() : Promise.reject(response.status)))
        .then(
          (found) => {
            free = new Map();
            for (const item of found.results) {
              if (!free.has(item.node.slug)) free.set(item.node.slug, []);
              free.get(item.node.slug).push(item);
            }
            freeStatus.textContent = message("Found", { count: free.size }, freeStatus);
            rememberView(filterParams());
            redraw();
          },
          (status) => {
            if (status === 422) freeStatus.textContent = message("Problem", {}, freeStatus);
            else throw status;
          },
        ),
    );
  }

  // The free resources of a place, each a link to its page.
  function freeLinks(node) {
    const links = document.createElement("ul");
    links.className = "free-here";
    for (const item of free.get(node.slug)) {
      const entry = document.createElement("li");
      const link = document.createElement("a");
      link.href = "/resources/" + encodeURIComponent(item.resource.id);
      link.textContent = pick(item.resource.name);
      entry.append(link, " · " + message("FreeUnits", { count: item.free_units }, freeStatus));
      links.append(entry);
    }
    return links;
  }

  // Markers are drawn anew when the free filter changes: a marker's pop-up holds its free resources.
  function redraw() {
    markers.clearLayers();
    placedMarkers.clear();
    drawDistricts();
    render();
  }

  function shown(node) {
    return !free || free.has(node.slug);
  }

  function load() {
    const bounds = map.getBounds();
    const params = filterParams();
    rememberView(params);
    params.set("bbox", [bounds.getSouth(), bounds.getWest(), bounds.getNorth(), bounds.getEast()].map((v) => v.toFixed(5)).join(","));
    params.set("fields", "summary");
    params.set("limit", String(LIMIT));
    if (pending) pending.abort();
    pending = new AbortController();
    busy(
      fetch("/api/v1/nodes?" + params.toString(), { signal: pending.signal })
        .then((response) => response.json())
        .then((page) => {
          placed = page;
          render();
        }),
    );
  }

  // The places without a point match the filters wherever the map is: asked for once per filter change.
  let pendingUnplaced = null;
  function loadUnplaced() {
    const params = filterParams();
    params.set("located", "false");
    params.set("fields", "summary");
    params.set("limit", "1000");
    if (pendingUnplaced) pendingUnplaced.abort();
    pendingUnplaced = new AbortController();
    busy(
      fetch("/api/v1/nodes?" + params.toString(), { signal: pendingUnplaced.signal })
        .then((response) => response.json())
        .then((page) => {
          unplaced = page.results || [];
          if (unplaced.some((node) => node.location.dong_code && !districts[node.location.dong_code])) {
            fetch("/api/v1/districts?level=dong&format=geojson&fields=outline")
              .then((response) => response.json())
              .then((boundaries) => {
                remember(boundaries);
                drawDistricts();
                render();
              });
          }
          return gusLoaded.then(() => {
            drawDistricts();
            render();
          });
        }),
    );
  }

  // A gu newly chosen brings the map to it; other filters keep the view the visitor has.
  let fittedGu = null;
  function filtersChanged() {
    const gu = form.elements.gu.value;
    loadUnplaced();
    if (free) loadFree();
    if (gu && gu !== fittedGu && districts[gu]) {
      fittedGu = gu;
      // not animated: a fit asked for while another is under way (type-ahead in the gu list) would be lost
      map.fitBounds(L.geoJSON(districts[gu].feature).getBounds(), { animate: false });
    } else {
      fittedGu = gu || null;
      load();
    }
  }

  // The district a place without a point is drawn in: its dong when known (and drawn), else its gu.
  function districtOf(node) {
    const location = node.location;
    if (location.dong_code && districts[location.dong_code]) return location.dong_code;
    if (location.gu_code && districts[location.gu_code]) return location.gu_code;
    return null;
  }

  function precisionText(node) {
    if (node.location.precision === "dong") return message("ByDong");
    if (node.location.precision === "gu") return message("ByGu");
    return message("Unplaced");
  }

  function listItem(node, where) {
    const item = document.createElement("li");
    const link = document.createElement("a");
    link.href = "/nodes/" + encodeURIComponent(node.slug);
    link.textContent = pick(node.name);
    const meta = document.createElement("span");
    meta.className = "meta";
    const parts = [pick(typeLabels[node.node_type])];
    if (where) parts.push(where);
    if (node.nearest_station) parts.push(pick(node.nearest_station.name) + " " + node.nearest_station.distance_m + " m");
    meta.textContent = parts.join(" · ");
    item.className = "type-" + node.node_type;
    item.append(link, meta);
    if (free) item.append(freeLinks(node));
    return item;
  }

  // A place's pop-up: its name and link at once, then the server's card (type, what it can make, open now).
  function cardInto(box, node, popup) {
    const link = document.createElement("a");
    link.href = "/nodes/" + encodeURIComponent(node.slug);
    link.textContent = pick(node.name);
    box.append(link);
    fetch("/nodes/" + encodeURIComponent(node.slug) + "/card?lang=" + lang)
      .then((response) => (response.ok ? response.text() : Promise.reject(response.status)))
      .then((html) => {
        const card = document.createElement("div");
        card.innerHTML = html; // rendered by the server with every text escaped
        link.replaceWith(card.firstElementChild);
        popup.update(); // re-measured, so that the map pans to show the whole card
      })
      .catch(() => {});
  }

  // Placed markers stay while their place stays in the answer: an open pop-up stays open when the
  // map pans to show it (which loads the view again).
  const placedMarkers = new Map();
  function drawPlaced(results) {
    const kept = new Set();
    for (const node of results) {
      if (node.location.lat === null) continue;
      kept.add(node.slug);
      if (placedMarkers.has(node.slug)) continue;
      const icon = L.divIcon({ className: "marker marker-" + node.node_type, iconSize: [16, 16] });
      const marker = L.marker([node.location.lat, node.location.lon], { icon: icon, title: pick(node.name), keyboard: true });
      const popup = document.createElement("div");
      marker.bindPopup(popup);
      marker.once("popupopen", (event) => {
        cardInto(popup, node, event.popup);
        if (free) popup.append(freeLinks(node));
      });
      markers.addLayer(marker);
      placedMarkers.set(node.slug, marker);
    }
    for (const [slug, marker] of placedMarkers) {
      if (kept.has(slug)) continue;
      markers.removeLayer(marker);
      placedMarkers.delete(slug);
    }
  }

  // The places without a point by the district code they are drawn in; "" holds those placed nowhere.
  function unplacedByDistrict() {
    const groups = {};
    for (const node of unplaced.filter(shown)) {
      const code = districtOf(node) || "";
      (groups[code] = groups[code] || []).push(node);
    }
    return groups;
  }

  // One marker per district, at its centre, for the places known only by it.
  function drawDistricts() {
    districtMarkers.clearLayers();
    const groups = unplacedByDistrict();
    for (const code in groups) {
      if (!code) continue;
      const places = groups[code];
      const title = pick(districts[code].feature.properties.name) + ": " + message("DistrictPlaces", { count: places.length });
      const icon = L.divIcon({ className: "marker-district", html: "<span>" + places.length + "</span>", iconSize: [36, 36] });
      const marker = L.marker(districts[code].centre, { icon: icon, title: title, keyboard: true });
      const popup = document.createElement("div");
      popup.className = "district-popup";
      const heading = document.createElement("strong");
      heading.textContent = title;
      popup.append(heading);
      marker.bindPopup(popup, { maxHeight: 320 });
      marker.once("popupopen", (event) => {
        for (const node of places) {
          const box = document.createElement("div");
          popup.append(box);
          cardInto(box, node, event.popup);
        }
      });
      districtMarkers.addLayer(marker);
    }
  }

  // The list: the placed places in view, those known by a district whose centre is in view, and
  // those placed nowhere (always, since no view holds them).
  function render() {
    const results = (placed.results || []).filter(shown);
    drawPlaced(results);
    const bounds = map.getBounds();
    const items = results.map((node) => listItem(node, ""));
    const groups = unplacedByDistrict();
    for (const code in groups) {
      if (code && !bounds.contains(districts[code].centre)) continue;
      const where = code ? " · " + pick(districts[code].feature.properties.name) : "";
      for (const node of groups[code]) items.push(listItem(node, precisionText(node) + where));
    }
    list.replaceChildren(...items);
    if (!items.length) count.textContent = message("None");
    else if (placed.next_cursor) count.textContent = message("More", { shown: items.length });
    else count.textContent = message("Count", { shown: items.length });
  }

  map.on("moveend", () => {
    load();
    if (free && !form.elements.gu.value) loadFree(); // the free search looks around the view
  });
  freeForm.addEventListener("submit", (event) => {
    event.preventDefault();
    loadFree();
  });
  document.getElementById("free-clear").addEventListener("click", () => {
    freeForm.elements.kind.value = "";
    loadFree();
    rememberView(filterParams());
  });
  form.addEventListener("submit", (event) => {
    event.preventDefault();
    filtersChanged();
  });
  form.addEventListener("change", (event) => {
    if (event.target.name !== "station" && event.target.name !== "q") filtersChanged();
  });
  form.addEventListener("reset", () => window.setTimeout(filtersChanged, 0));

  // --- near me, near a station -----------------------------------------------------------------
  document.getElementById("near-me").addEventListener("click", () => {
    if (!navigator.geolocation) {
      count.textContent = message("NoLocation");
      return;
    }
    navigator.geolocation.getCurrentPosition(
      (position) => {
        const here = [position.coords.latitude, position.coords.longitude];
        L.circleMarker(here, { radius: 7, color: "#0050b3" }).addTo(map).bindTooltip(message("Located"));
        map.setView(here, 15);
      },
      () => (count.textContent = message("NoLocation")),
    );
  });

  const stationInput = form.elements.station;
  const stationOptions = document.getElementById("station-names");
  let stations = [];
  stationInput.addEventListener("input", () => {
    const text = stationInput.value.trim();
    const chosen = stations.find((s) => pick(s.name) === text);
    if (chosen) {
      map.setView([chosen.lat, chosen.lon], 15);
      return;
    }
    if (text.length < 1) return;
    fetch("/api/v1/stations?q=" + encodeURIComponent(text) + "&limit=10")
      .then((response) => response.json())
      .then((found) => {
        stations = found.results;
        stationOptions.replaceChildren(
          ...stations.map((s) => {
            const option = document.createElement("option");
            option.value = pick(s.name);
            return option;
          }),
        );
      });
  });

  load();
  loadUnplaced();
  if (freeForm.elements.kind.value) loadFree();
  // a link to a gu (the district page's) opens the map on that gu; a shared view keeps its own framing
  if (viewGiven) fittedGu = form.elements.gu.value || null;
  else if (form.elements.gu.value) gusLoaded.then(filtersChanged);
})();
