"""The tenant's communication site, where Gigbridge publishes its program hub."""

from __future__ import annotations

import uuid

from ..m365files import clock
from .models import Site

# (URL name, display name, description): Gigbridge's GIGBRIDGE_HUB_SITE_ID under `gigbridge up`.
INTRANET = ("intranet", "Contoso Intranet", "News and guides for everyone at Contoso.")
HOST = "contoso.sharepoint.example"


def intranet() -> Site:
    """Made once; its id never changes (the product keeps it in its settings)."""
    name, display_name, description = INTRANET
    site = Site.objects.filter(name=name).first()
    if site is None:
        site = Site.objects.create(
            graph_id=f"{HOST},{uuid.uuid4()},{uuid.uuid4()}",
            name=name,
            display_name=display_name,
            description=description,
            created=clock.now(),
        )
    return site
