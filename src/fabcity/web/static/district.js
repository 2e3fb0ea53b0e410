// The district page: its dongs coloured by the chosen indicator (a choropleth in five classes).
(function () {
  "use strict";
  const element = document.getElementById("district-map");
  if (!element) return;
  const lang = element.dataset.lang;
  const select = document.getElementById("indicator");
  const legend = document.getElementById("legend");
  const COLOURS = ["#f1eef6", "#bdc9e1", "#74a9cf", "#2b8cbe", "#045a8d"];
  const map = L.map(element, { maxZoom: 18 });
  let layer = null;
  let features = [];

  function pick(pair) {
    return (lang === "ko" ? pair.ko || pair.en : pair.en || pair.ko) || "";
  }

  function valueOf(feature, indicator) {
    if (indicator === "nodes") return feature.properties.nodes.total;
    const stat = feature.properties.statistics[indicator];
    return stat ? stat.value : null;
  }

  function draw() {
    const indicator = select.value;
    const values = features.map((f) => valueOf(f, indicator)).filter((v) => v !== null);
    const low = Math.min(...values);
    const high = Math.max(...values);
    const step = (high - low) / COLOURS.length || 1;
    const classOf = (value) => Math.min(COLOURS.length - 1, Math.floor((value - low) / step));
    if (layer) layer.remove();
    layer = L.geoJSON(
      { type: "FeatureCollection", features: features },
      {
        style: (feature) => {
          const value = valueOf(feature, indicator);
          return { color: "#555", weight: 1, fillOpacity: 0.8, fillColor: value === null ? "#ffffff" : COLOURS[classOf(value)] };
        },
        onEachFeature: (feature, item) => {
          const value = valueOf(feature, indicator);
          item.bindTooltip(pick(feature.properties.name) + ": " + (value === null ? "–" : value.toLocaleString()));
        },
      },
    ).addTo(map);
    map.fitBounds(layer.getBounds());
    element.dataset.indicator = indicator;
    legend.replaceChildren(
      ...COLOURS.map((colour, i) => {
        const item = document.createElement("li");
        const swatch = document.createElement("span");
        swatch.className = "swatch swatch-" + i;
        const from = low + step * i;
        item.append(swatch, document.createTextNode(" " + Math.round(from).toLocaleString() + " – " + Math.round(from + step).toLocaleString()));
        return item;
      }),
    );
  }

  fetch("/api/v1/districts?level=dong&format=geojson&parent=" + encodeURIComponent(element.dataset.code))
    .then((response) => response.json())
    .then((collection) => {
      features = collection.features;
      draw();
    });
  select.addEventListener("change", draw);
})();
