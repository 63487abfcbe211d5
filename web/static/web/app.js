// Progressive enhancement only: every page works without it.
"use strict";

// Filter a list of checkboxes by the words typed into a search box (the forward page's recipients).
function setUpFilter(input) {
  const list = document.querySelector(input.dataset.filterTarget);
  if (!list) return;
  const empty = list.querySelector(".filter-empty");
  input.addEventListener("input", () => {
    const words = input.value.trim().toLowerCase().split(/\s+/).filter(Boolean);
    let shown = 0;
    list.querySelectorAll(".choice").forEach((choice) => {
      const text = choice.textContent.toLowerCase();
      const match = words.every((word) => text.includes(word));
      choice.hidden = !match;
      if (match) shown += 1;
    });
    if (empty) empty.hidden = shown > 0;
  });
  // Enter in the search box filters; it must not submit the form.
  input.addEventListener("keydown", (event) => {
    if (event.key === "Enter") event.preventDefault();
  });
}

// The draft form's unit search (htmx fetches the matches): Enter searches instead of submitting,
// and a unit ticked among the matches moves to the chosen units, so the next search keeps it.
function setUpUnitSearch(input) {
  const role = input.dataset.unitSearch;
  const results = document.querySelector(`[data-results-for="${role}"]`);
  const chosen = document.querySelector(`[data-chosen="${role}"]`);
  if (!results || !chosen) return;
  input.addEventListener("keydown", (event) => {
    if (event.key !== "Enter") return;
    event.preventDefault();
    if (window.htmx) window.htmx.trigger(input, "search");
  });
  results.addEventListener("change", (event) => {
    const box = event.target;
    if (!(box instanceof HTMLInputElement) || !box.checked) return;
    const label = box.closest(".choice");
    if (!label) return;
    chosen.insertBefore(label, chosen.querySelector(".chosen-empty"));
    const note = chosen.querySelector(".chosen-empty");
    if (note) note.hidden = true;
    box.focus();
  });
}

// The language switch submits as soon as a language is chosen (its button stays for keyboards).
function setUpLanguageSwitch(form) {
  const select = form.querySelector("select");
  if (select) select.addEventListener("change", () => form.submit());
}

// A print button (the 退文告知单; 打印 on the delivery and document pages, where print.css keeps
// only the official documents on the paper): shown only where a script can print.
function setUpPrint(button) {
  button.hidden = false;
  button.addEventListener("click", () => window.print());
}

document.addEventListener("DOMContentLoaded", () => {
  document.querySelectorAll("input[data-filter-target]").forEach(setUpFilter);
  document.querySelectorAll("input[data-unit-search]").forEach(setUpUnitSearch);
  document.querySelectorAll("form.langswitch").forEach(setUpLanguageSwitch);
  document.querySelectorAll("button[data-print]").forEach(setUpPrint);
});
