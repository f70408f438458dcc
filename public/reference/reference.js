// Starts Swagger UI on the coordinator's own OpenAPI document. Its "Try it out" requests go to the
// page's origin (the document lists no servers). "Authorize" takes a cohort bearer token (the `bearer`
// scheme of /openapi.json); Swagger UI keeps it in memory only, for this tab, until a reload.
// BaseLayout: no standalone top bar (a URL box for other documents) and no online validator badge.
window.ui = SwaggerUIBundle({
  url: "/openapi.json",
  dom_id: "#swagger-ui",
  presets: [SwaggerUIBundle.presets.apis],
  layout: "BaseLayout",
  deepLinking: true,
  displayRequestDuration: true,
});
