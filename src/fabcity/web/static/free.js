// The free-to-book page: "near me" fills the form from the browser's position, and a small map shows
// the place looked around and what was found (names set as text, never as HTML).
(function () {
  "use strict";
  const button = document.getElementById("my-location");
  if (button && navigator.geolocation) {
    button.hidden = false;
    button.addEventListener("click", function () {
      navigator.geolocation.getCurrentPosition(function (position) {
        const form = button.form;
        form.elements.near.value = position.coords.latitude.toFixed(5) + "," + position.coords.longitude.toFixed(5);
        form.elements.where.value = "";
        form.submit();
      });
    });
  }
  const element = document.getElementById("free-map");
  if (!element || typeof L === "undefined") return;
  const lang = element.dataset.lang;
  const data = JSON.parse(element.dataset.found || "{}");
  const pick = (pair) => (lang === "ko" ? pair.ko || pair.en : pair.en || pair.ko) || "";
  const here = [data.place.lat, data.place.lon];
  const map = L.map(element, { maxZoom: 19 }).setView(here, 13);
  fetch("/api/v1/districts?level=gu&format=geojson&fields=outline")
    .then((response) => response.json())
    .then((boundaries) => {
      L.geoJSON(boundaries, { style: { color: "#5b6770", weight: 1, fillColor: "#eef1f3", fillOpacity: 0.6 }, interactive: false })
        .addTo(map)
        .bringToBack();
    });
  L.circleMarker(here, { radius: 8, color: "#0050b3", weight: 3 }).addTo(map);
  let bounds = L.latLngBounds([here]);
  if (data.place.radius_m) {
    const reach = L.circle(here, { radius: data.place.radius_m, color: "#0050b3", weight: 1, dashArray: "4 4", fill: false });
    bounds = reach.addTo(map).getBounds();
  }
  (data.results || []).forEach((item) => {
    const marker = L.circleMarker([item.lat, item.lon], { radius: 7, color: item.free ? "#0a6b2d" : "#8a5a00", weight: 3 });
    const link = document.createElement("a");
    link.href = "/resources/" + item.id;
    link.textContent = pick(item.name);
    marker.addTo(map).bindPopup(link);
    bounds.extend([item.lat, item.lon]);
  });
  map.fitBounds(bounds, { padding: [20, 20], maxZoom: 15 });
})();
