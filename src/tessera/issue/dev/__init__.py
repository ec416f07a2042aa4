"""``tessera dev``: the local provider, its data directory, its own pages and the demo API."""
