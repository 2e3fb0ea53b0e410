// The API docs page: Swagger UI from the swagger-ui-bundle package, started without inline script.
window.ui = SwaggerUIBundle({ url: document.getElementById("swagger-ui").dataset.url, dom_id: "#swagger-ui" });
