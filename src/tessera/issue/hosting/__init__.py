"""Serving the provider: uvicorn with bounded reads, AWS Lambda, and hosts that import an ASGI app."""
