"""The `mastra-admin` CLI: a client of the public REST and WebSocket APIs only, so it can never do
what the API forbids. Development/operator tooling: the Lambda functions never import this package
(typer, rich and requests are imported here and nowhere else under chalicelib/)."""
