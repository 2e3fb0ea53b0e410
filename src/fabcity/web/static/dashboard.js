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

  function values(kind, scale) {
    const [name, section] = kind.split(":");
    if (name === "index") {
      return get("/api/v1/indicators/indices?level=" + scale).then((answer) => ({
        method: answer.method,
        byCode: Object.fromEntries(answer.results.map((row) => [row.code, row.value])),
      }));
    }
    if (name === "activation") {
      return get("/api/v1/indicators/activation?month=" + month).then((answer) => ({
        method: answer.method,
        byCode: Object.fromEntries(answer.results.map((row) => [row.code, row.active_per_10k_residents])),
      }));
    }
    return get("/api/v1/indicators/sections?level=" + scale + "&section=" + section).then((answer) => ({
      method: answer.method,
      byCode: Object.fromEntries(answer.results.map((row) => [row.code, name === "slq" ? row.slq : row.capacity_ratio])),
    }));
  }

  function shape(scale) {
    if (!boundaries[scale]) boundaries[scale] = get("/api/v1/districts?format=geojson&level=" + scale);
    return boundaries[scale];
  }

  function draw() {
    const kind = indicator.value;
    const scale = kind === "activation" ? "gu" : level.value; // activation is counted per gu
    Promise.all([shape(scale), values(kind, scale)]).then(([collection, found]) => {
      const known = Object.values(found.byCode).filter((v) => v !== null && v !== undefined).sort((a, b) => a - b);
      const breaks = COLOURS.slice(1).map((_, i) => known[Math.floor(((i + 1) * known.length) / COLOURS.length)]);
      const colour = (value) => {
        if (value === null || value === undefined) return "#ffffff";
        let index = 0;
        while (index < breaks.length && value >= breaks[index]) index += 1;
        return COLOURS[index];
      };
      if (layer) layer.remove();
      layer = L.geoJSON(collection, {
        style: (feature) => ({ color: "#555", weight: 0.8, fillOpacity: 0.85, fillColor: colour(found.byCode[feature.id]) }),
        onEachFeature: (feature, item) => {
          const value = found.byCode[feature.id];
          item.bindTooltip(pick(feature.properties.name) + ": " + (value === null || value === undefined ? element.dataset.msgMissing : value));
        },
      }).addTo(map);
      legend.replaceChildren(
        ...COLOURS.map((fill, i) => {
          const item = document.createElement("li");
          const swatch = document.createElement("span");
          swatch.className = "swatch swatch-" + i;
          const low = i === 0 ? known[0] : breaks[i - 1];
          const high = i === COLOURS.length - 1 ? known[known.length - 1] : breaks[i];
          item.append(swatch, document.createTextNode(" " + low + " – " + high));
          return item;
        }),
      );
      source.textContent = Object.entries(found.method)
        .map(([key, value]) => key + ": " + (Array.isArray(value) ? value.join(", ") : value))
        .join(" · ");
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
        options: { indexAxis: "y", animation: false, scales: { x: { min: 0, max: 100 } } },
      });
    });
  }
  place.addEventListener("change", drawSectors);
  drawSectors();

  // --- activation over the last 12 months ----------------------------------------------------
  const trend = document.getElementById("trend");
  const months = JSON.parse(trend.dataset.months);
  Promise.all(months.map((m) => get("/api/v1/indicators/activation?month=" + m))).then((answers) => {
    const total = (answer, codes) =>
      answer.results.filter((row) => !codes || codes.includes(row.code)).reduce((sum, row) => sum + (row.active_nodes || 0), 0);
    new Chart(trend, {
      type: "line",
      data: {
        labels: months,
        datasets: [
          { label: lang === "ko" ? "서울" : "Seoul", data: answers.map((a) => total(a)), borderColor: "#045a8d" },
          { label: lang === "ko" ? "은평구" : "Eunpyeong-gu", data: answers.map((a) => total(a, ["11380"])), borderColor: "#d7301f" },
          { label: lang === "ko" ? "도봉구" : "Dobong-gu", data: answers.map((a) => total(a, ["11320"])), borderColor: "#238b45" },
        ],
      },
      options: { animation: false, scales: { y: { beginAtZero: true } } },
    });
  });
})();
