"""The HTTP API, one router per resource; `likeness.web.app` mounts them all under `API`."""
