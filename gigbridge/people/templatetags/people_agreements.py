"""Agreement facts for partials included in other apps' pages, so those pages' views need not
know about them (``{% load people_agreements %}`` in the partial itself)."""

from django import template

register = template.Library()


@register.simple_tag(takes_context=True)
def agreements_expiring(context, engagement) -> dict:
    """The required agreements of ``engagement``'s freelancer that expire before its contract
    ends, and whether the viewer may send them for signature or record them."""
    from gigbridge import clock

    from .. import capabilities
    from ..expiring import contract_end, expiring_during

    user = context["request"].user
    return {
        "agreements": expiring_during(engagement),
        "ends": contract_end(engagement),
        "today": clock.today(),
        "can_send": capabilities.can_send_for_signature(user),
        "can_record": capabilities.can_record_agreements(user),
    }
