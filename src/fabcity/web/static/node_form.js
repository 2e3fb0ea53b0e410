// The node form's machine editor, made lighter where scripts run: each row shows the specs of its
// machine type (and any spec already filled in), and "Add another machine" adds an empty row.
// Without this script every spec shows and the form still works: it posts plain fields.
(function () {
  "use strict";

  function showSpecsOf(row) {
    const type = row.querySelector(".machine-type").value;
    row.querySelectorAll(".spec").forEach(function (spec) {
      const filled = Array.from(spec.querySelectorAll("input")).some(function (input) { return input.value.trim() !== ""; });
      spec.hidden = !filled && !spec.dataset.types.split(" ").includes(type);
    });
  }

  function prepare(row) {
    row.querySelector(".machine-type").addEventListener("change", function () { showSpecsOf(row); });
    showSpecsOf(row);
  }

  const rows = document.getElementById("machine-rows");
  const template = document.getElementById("machine-template");
  const add = document.getElementById("add-machine");
  if (!rows || !template || !add) return;
  rows.querySelectorAll(".machine-row").forEach(prepare);
  add.hidden = false;
  add.addEventListener("click", function () {
    const numbers = Array.from(rows.querySelectorAll(".machine-row")).map(function (row) { return Number(row.dataset.row); });
    const next = String(Math.max(-1, ...numbers) + 1);
    const holder = document.createElement("div");
    holder.innerHTML = template.innerHTML.split("__row__").join(next);
    const row = holder.firstElementChild;
    rows.appendChild(row);
    prepare(row);
    row.querySelector(".machine-type").focus();
  });
})();
