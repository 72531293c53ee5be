"""The guide to writing screens (docs/screens.md): field tables from the screen schema,
an example and an offscreen picture of every widget type. ``python -m hmi.guide`` (``make
docs``) writes it; ``--check`` tells whether it is up to date."""
