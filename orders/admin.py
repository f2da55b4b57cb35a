"""Django admin for the portal's own data: users and their F&O accounts, API tokens, the lookup audit."""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import admin, messages
from django.contrib.auth.admin import UserAdmin
from django.contrib.auth.models import Group, User
from django.db.models import QuerySet
from django.http import HttpRequest
from django.utils.translation import gettext_lazy as _

from orders.exceptions import OrdersUnavailable
from orders.models import ApiToken, CustomerAccountLink, LookupAudit
from orders.revocation import user_access_revoke
from orders.roles import PORTAL_ROLES, user_manageable_by
from orders.selectors import customer_account_exists
from orders.services import api_token_revoke, api_tokens_revoke_for_users


class CustomerAccountLinkForm(forms.ModelForm[CustomerAccountLink]):
    class Meta:
        model = CustomerAccountLink
        fields = ["company", "account"]

    def clean(self) -> dict[str, Any]:
        super().clean()
        data = self.cleaned_data
        company, account = data.get("company"), data.get("account")
        if company and account and self.has_changed():
            data["company"] = company = company.lower()
            try:
                exists = customer_account_exists(company=company, account=account, request_id="ADMIN")
            except OrdersUnavailable as exc:
                raise forms.ValidationError(
                    _("F&O could not be asked whether %(account)s exists in %(company)s (%(error)s). "
                      "Try again in a minute."),
                    params={"account": account, "company": company, "error": exc.kind},
                ) from exc
            if not exists:
                raise forms.ValidationError(
                    _("F&O has no customer account %(account)s in company %(company)s. Check both and try again."),
                    params={"account": account, "company": company},
                )
        return data


class CustomerAccountLinkInline(admin.TabularInline[CustomerAccountLink, User]):
    model = CustomerAccountLink
    form = CustomerAccountLinkForm
    extra = 1


admin.site.unregister(User)


@admin.register(User)
class PortalUserAdmin(UserAdmin[User]):
    """Superusers manage everything. Everyone else (the Administrator role) manages customers, their account links
    and tokens, and the two portal roles, but can neither grant powers (superuser, staff, other groups, permissions)
    nor touch an account holding more than they do: superusers are not even listed."""

    inlines = [CustomerAccountLinkInline]
    list_display = ["username", "email", "is_active", "is_staff", "last_login", "accounts"]
    actions = ["deactivate_users", "revoke_tokens"]

    @admin.display(description=_("F&O accounts"))
    def accounts(self, user: Any) -> str:
        return ", ".join(str(link) for link in user.account_links.all())

    def get_queryset(self, request: HttpRequest) -> QuerySet[User]:
        users = super().get_queryset(request).prefetch_related("account_links")
        if not request.user.is_superuser:
            users = users.filter(is_superuser=False)
        return users

    def has_view_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        if obj is not None and obj.is_superuser and not request.user.is_superuser:
            return False
        return super().has_view_permission(request, obj)

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        if obj is not None and not user_manageable_by(actor=request.user, target=obj):
            return False
        return super().has_change_permission(request, obj)

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        if obj is not None and not user_manageable_by(actor=request.user, target=obj):
            return False
        return super().has_delete_permission(request, obj)

    def get_fieldsets(self, request: HttpRequest, obj: Any = None) -> Any:
        fieldsets = super().get_fieldsets(request, obj)
        if obj is None or request.user.is_superuser:
            return fieldsets  # the add form asks for a user name and password only
        return [
            (name, {**options, "fields": [f for f in options["fields"] if f != "user_permissions"]})
            for name, options in fieldsets
        ]

    def get_readonly_fields(self, request: HttpRequest, obj: Any = None) -> Any:
        readonly = list(super().get_readonly_fields(request, obj))
        if not request.user.is_superuser:
            readonly += ["is_superuser", "is_staff"]
        return readonly

    def formfield_for_manytomany(self, db_field: Any, request: HttpRequest, **kwargs: Any) -> Any:
        if db_field.name == "groups" and not request.user.is_superuser:
            kwargs["queryset"] = Group.objects.filter(name__in=PORTAL_ROLES)
        return super().formfield_for_manytomany(db_field, request, **kwargs)

    def save_related(self, request: HttpRequest, form: Any, formsets: Any, change: bool) -> None:
        # The form offers only the portal roles, and saving it sets the groups to what was ticked: groups a superuser
        # gave are kept, not silently dropped.
        kept = [] if request.user.is_superuser or not change else list(
            form.instance.groups.exclude(name__in=PORTAL_ROLES)
        )
        super().save_related(request, form, formsets, change)
        if kept:
            form.instance.groups.add(*kept)

    def _refused(self, request: HttpRequest, users: list[Any]) -> bool:
        refused = [u.get_username() for u in users if not user_manageable_by(actor=request.user, target=u)]
        if refused:
            self.message_user(request, _("Only a superuser can change %(users)s. Nothing was changed.")
                              % {"users": ", ".join(refused)}, messages.ERROR)
        return bool(refused)

    @admin.action(description=_("Deactivate the selected users, revoke their tokens and end their sessions"),
                  permissions=["change"])
    def deactivate_users(self, request: HttpRequest, queryset: QuerySet[User]) -> None:
        # Read the selection once: a list filtered on "active" is empty once they are deactivated.
        users = list(queryset)
        if self._refused(request, users):
            return
        ids = [user.pk for user in users]
        count = User.objects.filter(pk__in=ids, is_active=True).update(is_active=False)
        # update() sends no signals, so orders.revocation is called here, after the update has committed.
        tokens, sessions = user_access_revoke(user_ids=ids)
        self.message_user(
            request,
            _("%(users)d users deactivated, %(tokens)d tokens revoked, %(sessions)d sessions ended.")
            % {"users": count, "tokens": tokens, "sessions": sessions},
            messages.SUCCESS,
        )

    @admin.action(description=_("Revoke every API token of the selected users"), permissions=["change"])
    def revoke_tokens(self, request: HttpRequest, queryset: QuerySet[User]) -> None:
        users = list(queryset)
        if self._refused(request, users):
            return
        revoked = api_tokens_revoke_for_users(user_ids=[user.pk for user in users])
        self.message_user(request, _("%(tokens)d tokens revoked.") % {"tokens": revoked}, messages.SUCCESS)


@admin.register(ApiToken)
class ApiTokenAdmin(admin.ModelAdmin[ApiToken]):
    list_display = ["name", "user", "prefix", "created_at", "last_used_at", "expires_at", "revoked_at"]
    list_filter = ["revoked_at"]
    search_fields = ["name", "prefix", "user__username", "user__email"]
    readonly_fields = ["user", "name", "prefix", "created_at", "last_used_at", "expires_at", "revoked_at"]
    actions = ["revoke"]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False  # tokens are created by their owner (shown once) or with create_api_token

    def get_queryset(self, request: HttpRequest) -> QuerySet[ApiToken]:
        tokens = super().get_queryset(request).select_related("user")
        # As in the user admin: superusers' tokens are theirs and other superusers' to manage.
        return tokens if request.user.is_superuser else tokens.exclude(user__is_superuser=True)

    @admin.action(description=_("Revoke the selected tokens"), permissions=["change"])
    def revoke(self, request: HttpRequest, queryset: QuerySet[ApiToken]) -> None:
        for token in queryset:
            api_token_revoke(token=token)
        self.message_user(request, _("Tokens revoked."), messages.SUCCESS)


@admin.register(LookupAudit)
class LookupAuditAdmin(admin.ModelAdmin[LookupAudit]):
    list_display = ["reference", "at", "user", "channel", "kind", "company", "order_number", "outcome",
                    "status_code", "latency_ms", "cache"]
    list_filter = ["outcome", "channel", "kind", "cache"]
    search_fields = ["reference", "order_number", "user__username", "user__email"]
    date_hierarchy = "at"

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False
