"""``{% world_time %}``: the sandbox's world time on every page, when it is not wall time.

In the embedded default the product's clock follows the sandbox clock (``gigbridge.worldclock``),
which a person moves forward to make hours arrive and grace periods end. Dates on the pages are
then that world's, so the page says so; with wall time (a real deployment) nothing is shown.
"""

from __future__ import annotations

import datetime as dt

from django import template
from django.conf import settings
from django.utils import timezone

from gigbridge import clock

register = template.Library()

SHOWN_FROM = dt.timedelta(minutes=1)  # closer than this to wall time: nothing to explain


@register.inclusion_tag("web/_world_time.html")
def world_time() -> dict:
    if clock.world() is None:
        return {"shown": False}
    moment = clock.now()
    return {
        "shown": abs(moment - timezone.now()) >= SHOWN_FROM,
        "moment": moment,
        "zone": settings.TIME_ZONE,
    }
