// A table wider than the screen scrolls inside itself (app.css); while it does, it takes keyboard focus,
// so that it can be scrolled without a mouse (WCAG 2.1.1). Tables drawn later by a page's script count too.
const sizes = new ResizeObserver((entries) => {
  for (const { target } of entries) {
    if (target.scrollWidth > target.clientWidth) target.setAttribute("tabindex", "0");
    else target.removeAttribute("tabindex");
  }
});
const watch = (node) => {
  if (node.matches?.("table")) sizes.observe(node);
  node.querySelectorAll?.("table").forEach((table) => sizes.observe(table));
};
watch(document);
new MutationObserver((changes) => changes.forEach((change) => change.addedNodes.forEach(watch))).observe(
  document.body,
  { childList: true, subtree: true },
);
