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

// The language switch submits as soon as a language is chosen (its button stays for keyboards).
function setUpLanguageSwitch(form) {
  const select = form.querySelector("select");
  if (select) select.addEventListener("change", () => form.submit());
}

document.addEventListener("DOMContentLoaded", () => {
  document.querySelectorAll("input[data-filter-target]").forEach(setUpFilter);
  document.querySelectorAll("form.langswitch").forEach(setUpLanguageSwitch);
});
