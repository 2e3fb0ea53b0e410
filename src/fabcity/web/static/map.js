// The map page: nodes in the viewport from /api/v1/nodes (summaries, at most 500, nearest the
// centre first), a list kept in step with the map, filters kept in the URL so a view can be shared.
// All text from the data is set with textContent, never parsed as HTML.
(function () {
  "use strict";

  const mapElement = document.getElementById("map");
  const form = document.getElementById("filters");
  const list = document.getElementById("results");
  const count = document.getElementById("result-count");
  const lang = mapElement.dataset.lang;
  const typeLabels = JSON.parse(mapElement.dataset.typeLabels);
  const FILTERS = ["q", "type", "process", "material", "gu", "access", "open_now"];
  const LIMIT = 500;
  const SEOUL = [37.5665, 126.978];

  function message(name, values) {
    let text = mapElement.dataset["msg" + name];
    for (const key in values || {}) text = text.replace("{" + key + "}", values[key]);
    return text;
  }

  function pick(pair) {
    if (!pair) return "";
    return (lang === "ko" ? pair.ko || pair.en : pair.en || pair.ko) || "";
  }

  // --- the map and its base layers ---------------------------------------------------------
  const url = new URL(window.location.href);
  const start = url.searchParams.has("lat")
    ? [parseFloat(url.searchParams.get("lat")), parseFloat(url.searchParams.get("lon"))]
    : SEOUL;
  const map = L.map(mapElement, { maxZoom: 19 }).setView(start, parseInt(url.searchParams.get("z") || "11", 10));
  if (mapElement.dataset.tiles) {
    L.tileLayer(mapElement.dataset.tiles, { maxZoom: 19, attribution: mapElement.dataset.tileAttribution }).addTo(map);
  }
  map.attributionControl.addAttribution("admdongkor (SGIS) · KOGL Type 1");

  fetch("/api/v1/districts?level=gu&format=geojson&fields=outline")
    .then((response) => response.json())
    .then((boundaries) => {
      L.geoJSON(boundaries, {
        style: { color: "#5b6770", weight: 1, fillColor: "#eef1f3", fillOpacity: 0.6 },
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
        dongs = L.geoJSON(boundaries, { style: { color: "#8a969e", weight: 0.6, fill: false }, interactive: false });
        updateDongs();
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

  // --- filters <-> URL -----------------------------------------------------------------------
  for (const name of FILTERS) {
    const field = form.elements[name];
    const value = url.searchParams.get(name);
    if (!field || value === null) continue;
    if (field.type === "checkbox") field.checked = value === "true";
    else field.value = value;
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
    shared.set("lat", centre.lat.toFixed(5));
    shared.set("lon", centre.lng.toFixed(5));
    shared.set("z", String(map.getZoom()));
    const current = new URL(window.location.href);
    if (current.searchParams.has("lang")) shared.set("lang", current.searchParams.get("lang"));
    window.history.replaceState(null, "", "?" + shared.toString());
  }

  // --- loading what is in view ---------------------------------------------------------------
  let pending = null;

  function load() {
    const bounds = map.getBounds();
    const params = filterParams();
    rememberView(params);
    params.set("bbox", [bounds.getSouth(), bounds.getWest(), bounds.getNorth(), bounds.getEast()].map((v) => v.toFixed(5)).join(","));
    params.set("fields", "summary");
    params.set("limit", String(LIMIT));
    if (pending) pending.abort();
    pending = new AbortController();
    fetch("/api/v1/nodes?" + params.toString(), { signal: pending.signal })
      .then((response) => response.json())
      .then(show)
      .catch((error) => {
        if (error.name !== "AbortError") count.textContent = String(error);
      });
  }

  function show(page) {
    markers.clearLayers();
    list.replaceChildren();
    const results = page.results || [];
    for (const node of results) {
      const name = pick(node.name);
      const typeName = pick(typeLabels[node.node_type]);
      const item = document.createElement("li");
      const link = document.createElement("a");
      link.href = "/nodes/" + encodeURIComponent(node.slug);
      link.textContent = name;
      const meta = document.createElement("span");
      meta.className = "meta";
      meta.textContent = typeName + (node.nearest_station ? " · " + pick(node.nearest_station.name) + " " + node.nearest_station.distance_m + " m" : "");
      item.className = "type-" + node.node_type;
      item.append(link, meta);
      list.append(item);
      if (node.location.lat === null) continue;
      const icon = L.divIcon({ className: "marker marker-" + node.node_type, iconSize: [14, 14] });
      const marker = L.marker([node.location.lat, node.location.lon], { icon: icon, title: name, keyboard: true });
      const popup = document.createElement("div");
      const title = document.createElement("a");
      title.href = link.href;
      title.textContent = name;
      const kind = document.createElement("div");
      kind.textContent = typeName;
      popup.append(title, kind);
      marker.bindPopup(popup);
      markers.addLayer(marker);
    }
    if (!results.length) count.textContent = message("None");
    else if (page.next_cursor) count.textContent = message("More", { shown: results.length });
    else count.textContent = message("Count", { shown: results.length });
  }

  map.on("moveend", load);
  form.addEventListener("submit", (event) => {
    event.preventDefault();
    load();
  });
  form.addEventListener("change", (event) => {
    if (event.target.name !== "station" && event.target.name !== "q") load();
  });
  form.addEventListener("reset", () => window.setTimeout(load, 0));

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
})();
