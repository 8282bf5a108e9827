from rest_framework.negotiation import DefaultContentNegotiation


class FirstRendererNegotiation(DefaultContentNegotiation):
    """Ignore the client's Accept header: for views that answer a file or a stream themselves.

    An `<img>` asks for `image/*` and an EventSource for `text/event-stream`; DRF's default
    negotiation would answer either with 406 before the view runs. Errors still render as JSON.
    """

    def select_renderer(self, request, renderers, format_suffix=None):
        return renderers[0], renderers[0].media_type
