// Starts Swagger UI on the API docs page; the spec URL comes from a data attribute (no inline scripts).
window.addEventListener("DOMContentLoaded", function () {
  var root = document.getElementById("swagger-ui");
  window.SwaggerUIBundle({ url: root.dataset.specUrl, dom_id: "#swagger-ui", deepLinking: true });
});
