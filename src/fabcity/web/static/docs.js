// The API docs page: Swagger UI 5 (it reads OpenAPI 3.1) from the package's vendored copy, started without inline script.
const docs = document.getElementById("swagger-ui");
window.ui = SwaggerUIBundle({ url: docs.dataset.url, dom_id: "#swagger-ui" });

// Swagger UI leaves the fields of "Try it out" without a name that a screen reader can say: each is named
// after its parameter, as Swagger UI draws them.
const nameFields = () => {
  for (const row of docs.querySelectorAll("tr[data-param-name]")) {
    for (const field of row.querySelectorAll("input, select, textarea")) {
      if (!field.labels?.length && !field.hasAttribute("aria-label")) {
        field.setAttribute("aria-label", `${row.dataset.paramName} (${row.dataset.paramIn})`);
      }
    }
  }
};
new MutationObserver(nameFields).observe(docs, { childList: true, subtree: true });
