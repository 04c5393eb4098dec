// Starts Swagger UI on /docs. A file of its own, not an inline script: the page's
// Content-Security-Policy allows only our own scripts.
window.addEventListener("DOMContentLoaded", () => {
  const csrfToken = document.body.dataset.csrfToken;
  window.ui = SwaggerUIBundle({
    url: document.body.dataset.openapiUrl,
    dom_id: "#swagger-ui",
    layout: "BaseLayout",
    deepLinking: true,
    showExtensions: true,
    showCommonExtensions: true,
    presets: [SwaggerUIBundle.presets.apis, SwaggerUIBundle.SwaggerUIStandalonePreset],
    // "Try it out" with the login cookie sends the CSRF token, as the UI does.
    requestInterceptor: (request) => {
      if (csrfToken) request.headers["X-CSRF-Token"] = csrfToken;
      return request;
    },
  });
});
