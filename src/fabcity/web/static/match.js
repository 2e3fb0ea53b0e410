// The match page: the place of the need and the ranked makers on the map (text set with textContent).
(function () {
  "use strict";
  const element = document.getElementById("map");
  const lang = element.dataset.lang;
  const data = JSON.parse(element.dataset.matches || "{}");
  const map = L.map(element, { maxZoom: 19 }).setView([37.5665, 126.978], 11);
  const pick = (pair) => (lang === "ko" ? pair.ko || pair.en : pair.en || pair.ko) || "";
  fetch("/api/v1/districts?level=gu&format=geojson&fields=outline")
    .then((response) => response.json())
    .then((boundaries) => {
      L.geoJSON(boundaries, { style: { color: "#5b6770", weight: 1, fillColor: "#eef1f3", fillOpacity: 0.6 }, interactive: false })
        .addTo(map)
        .bringToBack();
    });
  const points = [];
  let bounds = null;
  if (data.place) {
    const here = [data.place.lat, data.place.lon];
    L.circleMarker(here, { radius: 8, color: "#0050b3", weight: 3 }).addTo(map).bindTooltip(data.place.label || "");
    points.push(here);
    if (data.within_m) {
      // the distance the need allows, so an empty result shows how far was looked
      const reach = L.circle(here, { radius: data.within_m, color: "#0050b3", weight: 1, dashArray: "4 4", fill: false });
      bounds = reach.addTo(map).getBounds();
    }
  }
  (data.matches || []).forEach((match, index) => {
    if (match.lat === null) return;
    const icon = L.divIcon({ className: "marker rank-marker marker-" + match.node_type, html: "", iconSize: [18, 18] });
    const marker = L.marker([match.lat, match.lon], { icon: icon, title: pick(match.name), keyboard: true }).addTo(map);
    const popup = document.createElement("a");
    popup.href = "/nodes/" + encodeURIComponent(match.slug);
    popup.textContent = index + 1 + ". " + pick(match.name);
    marker.bindPopup(popup);
    points.push([match.lat, match.lon]);
  });
  // makers that fit but lie beyond the distance: drawn too, so the way forward is on the map
  (data.beyond || []).forEach((match) => {
    if (match.lat === null) return;
    const icon = L.divIcon({ className: "marker beyond-marker marker-" + match.node_type, html: "", iconSize: [14, 14] });
    const marker = L.marker([match.lat, match.lon], { icon: icon, title: pick(match.name), keyboard: true }).addTo(map);
    const popup = document.createElement("a");
    popup.href = "/nodes/" + encodeURIComponent(match.slug);
    popup.textContent = pick(match.name);
    marker.bindPopup(popup);
    points.push([match.lat, match.lon]);
  });
  if (bounds) points.forEach((point) => bounds.extend(point));
  else if (points.length) bounds = L.latLngBounds(points);
  if (bounds) map.fitBounds(bounds, { padding: [30, 30], maxZoom: 15 });

  // The language switch keeps the need: what the address already holds, and the text as typed now.
  const switchLink = document.getElementById("language-switch");
  const typed = document.getElementById("text");
  if (switchLink && typed) {
    switchLink.addEventListener("click", (event) => {
      const target = new URL(switchLink.href, window.location.href);
      const params = new URLSearchParams(window.location.search);
      if (typed.value.trim()) params.set("text", typed.value);
      params.set("lang", target.searchParams.get("lang"));
      event.preventDefault();
      window.location.assign("/match?" + params.toString());
    });
  }
})();
