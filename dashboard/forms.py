"""The errors page's filters, offered from what the operator's own logs hold."""
from django import forms

from postings.models import ErrorLog
from postings.selectors import error_logs_for

# Enough to pick from in a select; any other listing or job still filters through the URL.
RECENT_CHOICES = 200


class ErrorFilterForm(forms.Form):
    listing = forms.IntegerField(required=False, min_value=1, max_value=2**63 - 1, widget=forms.Select)
    type = forms.ChoiceField(required=False, choices=[("", "All types"), *ErrorLog.ErrorType.choices])
    job = forms.UUIDField(required=False, widget=forms.Select)

    def __init__(self, *args, user, **kwargs):
        super().__init__(*args, **kwargs)
        logs = error_logs_for(user=user).order_by()
        posts = logs.filter(post__isnull=False).values_list("post_id", "post__title").distinct()
        jobs = logs.filter(job__isnull=False).values_list("job__job_id", "job__created_at").distinct()
        self.fields["listing"].widget.choices = [("", "All listings")] + [
            (pk, f"{title} (#{pk})") for pk, title in posts.order_by("-post_id")[:RECENT_CHOICES]
        ]
        self.fields["job"].widget.choices = [("", "All jobs")] + [
            (str(job_id), f"{created:%Y-%m-%d %H:%M} UTC · {str(job_id)[:8]}")
            for job_id, created in jobs.order_by("-job__created_at")[:RECENT_CHOICES]
        ]

    def filters(self) -> dict:
        """The valid filters as error_logs_for takes them; an invalid one is left out (and shown)."""
        if not self.is_bound:
            return {}
        self.is_valid()
        data = self.cleaned_data
        wanted = {"post_id": data.get("listing"), "error_type": data.get("type"), "job_id": data.get("job")}
        return {name: value for name, value in wanted.items() if value}
