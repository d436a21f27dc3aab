"""The HTTP layer around the QA engine: app, routes, middleware, errors, security, SSE and the app's state."""
