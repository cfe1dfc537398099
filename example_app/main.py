"""The example's ASGI entry point: ``uvicorn example_app.main:app``."""

from panther_like import Panther

app = Panther(configs='configs')
