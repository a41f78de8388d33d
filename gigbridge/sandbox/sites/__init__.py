"""Microsoft Graph v1.0 emulator, part 3: SharePoint sites and their pages (``sitePage``).

A Django app of its own (label ``sandbox_sites``) inside the sandbox process. Its handlers
register with the Graph dispatcher (``$batch``, throttling and permissions as for every route):

- ``GET /sites/{id}``; ``GET|POST /sites/{id}/pages``; ``GET|PATCH /sites/{id}/pages/{page}``
  (also as ``…/{page}/microsoft.graph.sitePage``, ``$expand=canvasLayout``);
  ``POST /sites/{id}/pages/{page}/microsoft.graph.sitePage/publish``.
- ``/sites/``: the read-only viewer of the sites and their published pages (``sitesview``).

The seeded communication site "Contoso Intranet" is where Gigbridge publishes its program hub
(``gigbridge sandbox info`` gives its id as ``hub_site_id``).
"""
