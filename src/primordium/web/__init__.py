"""The web gallery: a read-only FastAPI view of the run store and a static page."""
