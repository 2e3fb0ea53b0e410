// The API docs page: Swagger UI 5 (it reads OpenAPI 3.1) from the package's vendored copy, started without inline script.
window.ui = SwaggerUIBundle({ url: document.getElementById("swagger-ui").dataset.url, dom_id: "#swagger-ui" });
