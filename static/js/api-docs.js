// The API reference: Swagger UI on our own OpenAPI document (no inline script, for the CSP).
window.addEventListener("DOMContentLoaded", function () {
  var root = document.getElementById("api-reference");
  window.SwaggerUIBundle({
    url: root.dataset.specUrl,
    domNode: root,
    deepLinking: true,
    // Calls from the page send the token typed into "Authorize", never the session cookie.
    withCredentials: false,
    persistAuthorization: false,
  });
});
