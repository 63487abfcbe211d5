// Progressive enhancement only: a list that refreshes itself (htmx polling, [data-background-refresh])
// waits while the keyboard focus is inside it, so that a swap never takes the focus away from a
// person moving through its links; it refreshes again once they leave it.
"use strict";

document.addEventListener("htmx:beforeRequest", (event) => {
  const region = event.detail && event.detail.elt;
  if (region instanceof Element && region.hasAttribute("data-background-refresh") && region.contains(document.activeElement)) {
    event.preventDefault();
  }
});
