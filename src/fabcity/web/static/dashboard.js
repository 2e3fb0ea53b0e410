// The dashboard: a choropleth of any indicator, the index by sector of a place, the activation trend.
(function () {
  "use strict";
  const element = document.getElementById("choropleth");
  const lang = element.dataset.lang;
  const month = element.dataset.month;
  const indicator = document.getElementById("indicator");
  const level = document.getElementById("level");
  const legend = document.getElementById("legend");
  const source = document.getElementById("choropleth-source");
  const COLOURS = ["#f1eef6", "#bdc9e1", "#74a9cf", "#2b8cbe", "#045a8d"];
  const pick = (pair) => (lang === "ko" ? pair.ko || pair.en : pair.en || pair.ko) || "";
  const map = L.map(element, { maxZoom: 16 }).setView([37.5665, 126.978], 11);
  const boundaries = {};
  let layer = null;

  const get = (url) => fetch(url).then((response) => response.json());
  const shown = (value) =>
    value === null || value === undefined
      ? element.dataset.msgMissing
      : value.toLocaleString(lang, { maximumFractionDigits: Math.abs(value) >= 100 ? 0 : 2 });

  // A class bound with enough digits to tell it from its neighbours (0.0012, not 0).
  const bound = (value) =>
    value.toLocaleString(lang, Math.abs(value) >= 100 ? { maximumFractionDigits: 0 } : { maximumSignificantDigits: 3 });

  // Up to five classes over the distinct values, each from the smallest to the largest value it holds:
  // ties (many districts at 0) make one class, never a run of "0 – 0".
  function classes(known) {
    const distinct = [...new Set(known)];
    if (distinct.length <= COLOURS.length) return distinct.map((value) => ({ low: value, high: value }));
    const lows = COLOURS.map((_, i) => distinct[Math.floor((i * distinct.length) / COLOURS.length)]);
    return lows.map((low, i) => {
      const inside = distinct.filter((value) => value >= low && (i + 1 === lows.length || value < lows[i + 1]));
      return { low: inside[0], high: inside[inside.length - 1] };
    });
  }

  function values(kind, scale) {
    const [name, section] = kind.split(":");
    if (name === "index") {
      return get("/api/v1/indicators/indices?level=" + scale).then((answer) => ({
        byCode: Object.fromEntries(answer.results.map((row) => [row.code, row.value])),
      }));
    }
    if (name === "activation") {
      return get("/api/v1/indicators/activation?month=" + month).then((answer) => ({
        byCode: Object.fromEntries(answer.results.map((row) => [row.code, row[section]])),
      }));
    }
    return get("/api/v1/indicators/sections?level=" + scale + "&section=" + section).then((answer) => ({
      byCode: Object.fromEntries(answer.results.map((row) => [row.code, name === "slq" ? row.slq : row.capacity_ratio])),
    }));
  }

  function shape(scale) {
    if (!boundaries[scale]) boundaries[scale] = get("/api/v1/districts?format=geojson&fields=outline&level=" + scale);
    return boundaries[scale];
  }

  function draw() {
    const kind = indicator.value;
    level.disabled = kind.startsWith("activation:"); // activation is counted per gu
    const scale = level.disabled ? "gu" : level.value;
    Promise.all([shape(scale), values(kind, scale)]).then(([collection, found]) => {
      const figures = Object.values(found.byCode);
      const known = figures.filter((v) => v !== null && v !== undefined).sort((a, b) => a - b);
      const groups = classes(known);
      // colour indexes spread over the scale when there are fewer than five classes
      const fills = groups.map((_, i) => (groups.length === 1 ? 2 : Math.round((i * (COLOURS.length - 1)) / (groups.length - 1))));
      const colour = (value) => {
        if (value === null || value === undefined) return "#ffffff";
        let index = 0;
        while (index + 1 < groups.length && value >= groups[index + 1].low) index += 1;
        return COLOURS[fills[index]];
      };
      if (layer) layer.remove();
      layer = L.geoJSON(collection, {
        style: (feature) => ({ color: "#555", weight: 0.8, fillOpacity: 0.85, fillColor: colour(found.byCode[feature.id]) }),
        onEachFeature: (feature, item) => {
          const value = found.byCode[feature.id];
          item.bindTooltip(pick(feature.properties.name) + ": " + shown(value));
        },
      }).addTo(map);
      const entry = (fill, text) => {
        const item = document.createElement("li");
        const swatch = document.createElement("span");
        swatch.className = "swatch swatch-" + fill;
        item.append(swatch, document.createTextNode(" " + text));
        return item;
      };
      const entries = groups.map((group, i) =>
        entry(fills[i], group.low === group.high ? bound(group.low) : bound(group.low) + " – " + bound(group.high)),
      );
      if (known.length < collection.features.length) entries.push(entry("missing", legend.dataset.msgMissing));
      legend.replaceChildren(...entries);
      source.textContent = indicator.selectedOptions[0].dataset.source;
      element.dataset.shown = kind + "@" + scale;
    });
  }

  indicator.addEventListener("change", draw);
  level.addEventListener("change", draw);
  draw();

  // --- the index by sector of one place ---------------------------------------------------
  const place = document.getElementById("place");
  let sectorChart = null;
  function drawSectors() {
    get("/api/v1/indicators/index?place=" + place.value).then((answer) => {
      const labels = answer.sectors.map((s) => s.sector + " " + pick(answer.section_names[s.sector]));
      const scores = answer.sectors.map((s) => (s.score === null ? null : Math.round(s.score * 1000) / 10));
      if (sectorChart) sectorChart.destroy();
      sectorChart = new Chart(document.getElementById("sectors"), {
        type: "bar",
        data: { labels: labels, datasets: [{ label: pick(answer.place.name) + " · " + (answer.value === null ? "—" : answer.value.toFixed(1)), data: scores, backgroundColor: "#2b8cbe" }] },
        options: { indexAxis: "y", animation: false, maintainAspectRatio: false, scales: { x: { min: 0, max: 100 } } },
      });
    });
  }
  place.addEventListener("change", drawSectors);
  drawSectors();

  // --- activation over the last 12 months: a suppressed month (1 to 4 nodes) is a gap, not a zero ---------
  const trend = document.getElementById("trend");
  const LINES = { 11: "#045a8d", 11380: "#d7301f", 11320: "#238b45" }; // Seoul and the two prototype zones
  get("/api/v1/indicators/activation/trend?until=" + trend.dataset.month).then((answer) => {
    new Chart(trend, {
      type: "line",
      data: {
        labels: answer.months,
        datasets: answer.series
          .filter((series) => LINES[series.code])
          .map((series) => ({
            label: pick({ ko: series.name_ko, en: series.name_en }),
            data: series.active_nodes,
            borderColor: LINES[series.code],
            spanGaps: false,
          })),
      },
      options: { animation: false, maintainAspectRatio: false, scales: { y: { beginAtZero: true, ticks: { precision: 0 } } } },
    });
  });

  // --- the OECD well-being topics of the Capital Region beside Korea's --------------------------------
  const resilience = document.getElementById("resilience");
  get("/api/v1/indicators/resilience").then((answer) => {
    const region = (code) => answer.results.find((r) => r.code === code);
    const capital = region(answer.capital_region);
    const korea = region("KOR");
    new Chart(resilience, {
      type: "bar",
      data: {
        labels: capital.topics.map((topic) => pick(topic.label)),
        datasets: [
          { label: capital.code + " " + capital.name, data: capital.topics.map((t) => t.score), backgroundColor: "#045a8d" },
          { label: pick({ ko: "대한민국", en: "Korea" }), data: korea.topics.map((t) => t.score), backgroundColor: "#9ecae1" },
        ],
      },
      options: { indexAxis: "y", animation: false, maintainAspectRatio: false, scales: { x: { min: 0, max: 10 } } },
    });
  });
})();
