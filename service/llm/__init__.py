"""The optional LLM: fetching the bundled model, running it locally, and the client for any server."""
