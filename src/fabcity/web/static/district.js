// The district page: its dongs coloured by the chosen indicator (a choropleth in up to five classes).
// Counts get whole-number classes that never repeat ("0", "1", "2–3"), so a gu whose dongs hold
// zero or one node reads "0, 1", not "0–0, 0–0, 0–1"; dongs without a figure are shown and named.
(function () {
  "use strict";
  const element = document.getElementById("district-map");
  if (!element) return;
  const lang = element.dataset.lang;
  const select = document.getElementById("indicator");
  const legend = document.getElementById("legend");
  const COLOURS = ["#f1eef6", "#bdc9e1", "#74a9cf", "#2b8cbe", "#045a8d"];
  const NO_FIGURE = "#ffffff";
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

  function format(value) {
    return value.toLocaleString(lang === "ko" ? "ko-KR" : "en", { maximumFractionDigits: 1 });
  }

  // Equal-interval classes from the lowest to the highest value, each [from, to] and a colour.
  // Whole numbers: at most one class per value, bounds on whole numbers, none empty by rounding.
  function classesOf(values) {
    const low = Math.min(...values);
    const high = Math.max(...values);
    const whole = values.every(Number.isInteger);
    const count = whole ? Math.min(COLOURS.length, high - low + 1) : high > low ? COLOURS.length : 1;
    const step = (high - low) / count;
    const classes = [];
    for (let i = 0; i < count; i++) {
      let from = low + step * i;
      let to = i === count - 1 ? high : low + step * (i + 1);
      if (whole) {
        from = i === 0 ? low : classes[i - 1].to + 1;
        to = i === count - 1 ? high : Math.max(from, Math.floor(low + step * (i + 1) - 1e-9));
      }
      const colour = COLOURS[count === 1 ? COLOURS.length - 1 : Math.round((i * (COLOURS.length - 1)) / (count - 1))];
      classes.push({ from: from, to: to, colour: colour });
    }
    return classes;
  }

  function colourOf(classes, value) {
    if (value === null) return NO_FIGURE;
    return (classes.find((c) => value <= c.to) || classes[classes.length - 1]).colour;
  }

  function swatch(colour, text) {
    const item = document.createElement("li");
    const box = document.createElement("span");
    box.className = "swatch";
    box.style.background = colour;
    item.append(box, document.createTextNode(" " + text));
    return item;
  }

  function draw() {
    const indicator = select.value;
    const values = features.map((f) => valueOf(f, indicator)).filter((v) => v !== null);
    const classes = values.length ? classesOf(values) : [];
    if (layer) layer.remove();
    layer = L.geoJSON(
      { type: "FeatureCollection", features: features },
      {
        style: (feature) => ({ color: "#555", weight: 1, fillOpacity: 0.8, fillColor: colourOf(classes, valueOf(feature, indicator)) }),
        onEachFeature: (feature, item) => {
          const value = valueOf(feature, indicator);
          item.bindTooltip(pick(feature.properties.name) + ": " + (value === null ? element.dataset.msgNoFigure : format(value)));
        },
      },
    ).addTo(map);
    map.fitBounds(layer.getBounds());
    element.dataset.indicator = indicator;
    const items = classes.map((c) => swatch(c.colour, c.from === c.to ? format(c.from) : format(c.from) + "–" + format(c.to)));
    if (values.length < features.length) items.push(swatch(NO_FIGURE, element.dataset.msgNoFigure));
    legend.replaceChildren(...items);
  }

  fetch("/api/v1/districts?level=dong&format=geojson&parent=" + encodeURIComponent(element.dataset.code))
    .then((response) => response.json())
    .then((collection) => {
      features = collection.features;
      draw();
    });
  select.addEventListener("change", draw);
})();
