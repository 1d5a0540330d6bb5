// The receipts dashboard: fetch the live parts again every few seconds and keep the table's filter and sort.
"use strict";
(function () {
  const live = document.getElementById("live");
  const targets = document.getElementById("targets-live");
  const filter = document.getElementById("filter");
  if (!live || !targets) return;
  const every = Number(live.dataset.every) || 2000;
  const base = live.dataset.src.replace(/\/live$/, "");
  let sortKey = null, sortDir = 1;

  function rows() { return Array.from(targets.querySelectorAll("tbody tr")); }

  function applyFilter() {
    const words = (filter ? filter.value : "").toLowerCase().split(/\s+/).filter(Boolean);
    let shown = 0;
    for (const row of rows()) {
      const text = row.textContent.toLowerCase();
      const hit = words.every((w) => text.includes(w));
      row.classList.toggle("hidden-by-filter", !hit);
      if (hit) shown += 1;
    }
    const count = document.getElementById("shown-rows");
    if (count) count.textContent = `${shown} of ${rows().length} shown`;
  }

  function applySort() {
    const head = targets.querySelector(`th[data-sort="${sortKey}"]`);
    targets.querySelectorAll("th").forEach((th) => th.classList.remove("sorted-asc", "sorted-desc"));
    if (!head) return;
    head.classList.add(sortDir > 0 ? "sorted-asc" : "sorted-desc");
    const numeric = head.hasAttribute("data-numeric");
    const body = targets.querySelector("tbody");
    const sorted = rows().sort((a, b) => {
      const x = a.dataset[sortKey] || "", y = b.dataset[sortKey] || "";
      return sortDir * (numeric ? Number(x) - Number(y) : x.localeCompare(y));
    });
    sorted.forEach((row) => body.appendChild(row));
  }

  function wire() {
    targets.querySelectorAll("th[data-sort]").forEach((th) => {
      th.addEventListener("click", () => {
        sortDir = sortKey === th.dataset.sort ? -sortDir : 1;
        sortKey = th.dataset.sort;
        applySort();
      });
    });
    if (sortKey) applySort();
    applyFilter();
  }

  async function refresh() {
    try {
      const response = await fetch(base + "/live", { credentials: "same-origin", cache: "no-store" });
      if (response.ok) {
        const parts = new DOMParser().parseFromString(await response.text(), "text/html");
        const figures = parts.querySelector('[data-part="live"]');
        const table = parts.querySelector('[data-part="targets-live"]');
        if (figures) live.replaceChildren(...figures.childNodes);
        if (table) {
          targets.replaceChildren(...table.childNodes);
          wire();
        }
      }
    } catch (error) {
      // the next round tries again
    }
    setTimeout(refresh, every);
  }

  if (filter) filter.addEventListener("input", applyFilter);
  wire();
  setTimeout(refresh, every);
})();
