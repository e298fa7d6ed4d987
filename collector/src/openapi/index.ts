// Routes declared with their OpenAPI specs, the generated document and the reference page.
export { api, route, describeIssues, type RouteContext, type RouteOptions } from './route.js'
export * from './schemas.js'
export { openApiDocument, openApiJson, TAGS } from './document.js'
export { referenceRoutes } from './reference.js'
export { responseCheck } from './response-check.js'
