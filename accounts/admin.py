from django.contrib import admin

from accounts.models import FacebookAccount


@admin.register(FacebookAccount)
class FacebookAccountAdmin(admin.ModelAdmin):
    list_display = ["id", "email", "name", "owner", "has_session", "created_at"]
    list_filter = ["owner", "created_at"]
    search_fields = ["email", "name", "owner__username"]
    readonly_fields = ["created_at", "updated_at"]
    list_select_related = ["owner"]

    @admin.display(boolean=True, description="session")
    def has_session(self, account: FacebookAccount) -> bool:
        return account.session_path.is_file()
