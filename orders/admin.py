"""Django admin for the portal's own data: users and their F&O accounts, API tokens, the lookup audit."""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import admin, messages
from django.contrib.auth import get_user_model
from django.contrib.auth.admin import UserAdmin
from django.db.models import QuerySet
from django.http import HttpRequest
from django.utils.translation import gettext_lazy as _

from orders.models import ApiToken, CustomerAccountLink, LookupAudit
from orders.odata.errors import ODataError
from orders.selectors import customer_account_exists
from orders.services import api_token_revoke, api_tokens_revoke_for_users

User = get_user_model()


class CustomerAccountLinkForm(forms.ModelForm):
    class Meta:
        model = CustomerAccountLink
        fields = ["company", "account"]

    def clean(self) -> dict[str, Any]:
        data = super().clean()
        company, account = data.get("company"), data.get("account")
        if company and account and self.has_changed():
            data["company"] = company = company.lower()
            try:
                exists = customer_account_exists(company=company, account=account, request_id="ADMIN")
            except ODataError as exc:
                raise forms.ValidationError(
                    _("F&O could not be asked whether %(account)s exists in %(company)s (%(error)s). "
                      "Try again in a minute."),
                    params={"account": account, "company": company, "error": type(exc).__name__},
                ) from exc
            if not exists:
                raise forms.ValidationError(
                    _("F&O has no customer account %(account)s in company %(company)s. Check both and try again."),
                    params={"account": account, "company": company},
                )
        return data


class CustomerAccountLinkInline(admin.TabularInline):
    model = CustomerAccountLink
    form = CustomerAccountLinkForm
    extra = 1


admin.site.unregister(User)


@admin.register(User)
class PortalUserAdmin(UserAdmin):
    inlines = [CustomerAccountLinkInline]
    list_display = ["username", "email", "is_active", "is_staff", "last_login", "accounts"]
    actions = ["deactivate_users", "revoke_tokens"]

    @admin.display(description=_("F&O accounts"))
    def accounts(self, user: Any) -> str:
        return ", ".join(str(link) for link in user.account_links.all())

    def get_queryset(self, request: HttpRequest) -> QuerySet:
        return super().get_queryset(request).prefetch_related("account_links")

    @admin.action(description=_("Deactivate the selected users and revoke their tokens"),
                  permissions=["change"])
    def deactivate_users(self, request: HttpRequest, queryset: QuerySet) -> None:
        count = queryset.update(is_active=False)
        revoked = api_tokens_revoke_for_users(user_ids=queryset.values_list("pk", flat=True))
        self.message_user(request, _("%(users)d users deactivated, %(tokens)d tokens revoked.")
                          % {"users": count, "tokens": revoked}, messages.SUCCESS)

    @admin.action(description=_("Revoke every API token of the selected users"), permissions=["change"])
    def revoke_tokens(self, request: HttpRequest, queryset: QuerySet) -> None:
        revoked = api_tokens_revoke_for_users(user_ids=queryset.values_list("pk", flat=True))
        self.message_user(request, _("%(tokens)d tokens revoked.") % {"tokens": revoked}, messages.SUCCESS)


@admin.register(ApiToken)
class ApiTokenAdmin(admin.ModelAdmin):
    list_display = ["name", "user", "prefix", "created_at", "last_used_at", "expires_at", "revoked_at"]
    list_filter = ["revoked_at"]
    search_fields = ["name", "prefix", "user__username", "user__email"]
    readonly_fields = ["user", "name", "prefix", "created_at", "last_used_at", "expires_at", "revoked_at"]
    actions = ["revoke"]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False  # tokens are created by their owner (shown once) or with create_api_token

    @admin.action(description=_("Revoke the selected tokens"), permissions=["change"])
    def revoke(self, request: HttpRequest, queryset: QuerySet) -> None:
        for token in queryset:
            api_token_revoke(token=token)
        self.message_user(request, _("Tokens revoked."), messages.SUCCESS)


@admin.register(LookupAudit)
class LookupAuditAdmin(admin.ModelAdmin):
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
