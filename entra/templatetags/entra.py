from django import template

from entra.provider import entra_configured as _entra_configured

register = template.Library()


@register.simple_tag
def entra_configured() -> bool:
    """`{% entra_configured as microsoft %}`: whether sign-in with Microsoft is offered."""
    return _entra_configured()
