"""The labelling app: projects, the shared labelling service, the web API and its page.

- :mod:`activelab.app.ingest` reads items (CSV, JSON Lines, a folder of images)
  and turns them into features;
- :mod:`activelab.app.project` creates and opens project folders;
- :mod:`activelab.app.service` is the one labelling loop behind every door (web
  page, JSON API, terminal), with the background trainer;
- :mod:`activelab.app.api` is the FastAPI application.

Install the ``[app]`` extra to use it.
"""

from __future__ import annotations

__all__: list[str] = []
