"""Staff see and remove a user's Microsoft sign-ins on the user's page, and e-mail invitations from the user list."""

from __future__ import annotations

from functools import partial
from typing import Any

from django.conf import settings
from django.contrib import admin, messages
from django.contrib.auth.models import User
from django.db import transaction
from django.db.models import QuerySet
from django.forms.models import BaseInlineFormSet
from django.http import HttpRequest
from django.utils.translation import gettext_lazy as _

from orders.admin import PortalUserAdmin
from orders.revocation import user_sessions_end

from .models import EntraIdentity, EntraInvitation
from .services import InvitationRefused, invitation_create_and_send


class EntraIdentityFormSet(BaseInlineFormSet[EntraIdentity, User, Any]):
    def __init__(self, data: Any = None, files: Any = None, instance: User | None = None, save_as_new: bool = False,
                 prefix: str | None = None, **kwargs: Any) -> None:
        name = prefix or self.get_default_prefix()
        if data is not None and f"{name}-TOTAL_FORMS" not in data:
            # A user form posted without this inline (a script, a page loaded before it existed) changes no link,
            # instead of failing for want of the inline's management data.
            data = data.copy()
            data[f"{name}-TOTAL_FORMS"] = data[f"{name}-INITIAL_FORMS"] = "0"
        super().__init__(data, files, instance=instance, save_as_new=save_as_new, prefix=prefix, **kwargs)


class EntraIdentityInline(admin.TabularInline[EntraIdentity, User]):
    model = EntraIdentity
    formset = EntraIdentityFormSet
    fields = readonly_fields = ("username", "tenant_id", "object_id", "created_at", "last_used_at")
    extra = 0

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False  # only the account's holder links it, by signing in with it (their own page, an invitation)


admin.site.unregister(User)


@admin.register(User)
class EntraUserAdmin(PortalUserAdmin):
    inlines = [*PortalUserAdmin.inlines, EntraIdentityInline]
    actions = [*PortalUserAdmin.actions, "invite_with_microsoft"]

    def save_related(self, request: HttpRequest, form: Any, formsets: Any, change: bool) -> None:
        super().save_related(request, form, formsets, change)
        removed = any(formset.model is EntraIdentity and formset.deleted_objects for formset in formsets)
        if removed:
            # A Microsoft sign-in taken away ends what it may have started, as a password change does.
            transaction.on_commit(partial(user_sessions_end, user_ids=[form.instance.pk]))

    def has_invite_permission(self, request: HttpRequest) -> bool:
        return request.user.has_perm("entra.add_entrainvitation") and self.has_change_permission(request)

    @admin.action(description=_("E-mail an invitation to sign in with Microsoft"), permissions=["invite"])
    def invite_with_microsoft(self, request: HttpRequest, queryset: QuerySet[User]) -> None:
        users = list(queryset)
        if self._refused(request, users):
            return
        sent, skipped = [], []
        for user in users:
            if user.is_staff or user.is_superuser:
                skipped.append(user.get_username())
                continue
            try:
                invitation_create_and_send(user=user, base_url=settings.PORTAL_BASE_URL,
                                           created_by=request.user if isinstance(request.user, User) else None)
            except InvitationRefused:
                skipped.append(user.get_username())
            else:
                sent.append(user.get_username())
        if sent:
            self.message_user(request, _("Invitations sent to %(users)s.") % {"users": ", ".join(sent)},
                              messages.SUCCESS)
        if skipped:
            self.message_user(
                request,
                _("Not invited (staff, deactivated or without an e-mail address): %(users)s.")
                % {"users": ", ".join(skipped)},
                messages.WARNING,
            )


@admin.register(EntraInvitation)
class EntraInvitationAdmin(admin.ModelAdmin[EntraInvitation]):
    list_display = ["email", "user", "created_at", "created_by", "expires_at", "used_at"]
    list_filter = ["used_at"]
    search_fields = ["email", "user__username"]
    readonly_fields = ["user", "email", "created_at", "created_by", "expires_at", "used_at"]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False  # python manage.py invite_customer_user, or the action on the user list

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def get_queryset(self, request: HttpRequest) -> QuerySet[EntraInvitation]:
        invitations = super().get_queryset(request).select_related("user", "created_by")
        return invitations if request.user.is_superuser else invitations.exclude(user__is_superuser=True)
