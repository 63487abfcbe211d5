"""What every view of /api/v1/ shares, beyond DRF's settings (config/settings.py REST_FRAMEWORK)."""

from rest_framework.generics import GenericAPIView

from api import idempotency
from api.models import ApiClient, Scope
from workflow.audit import acting_api_client


class ApiView(GenericAPIView):
    """A view of the API.

    - `required_scopes`: the scope each method needs for a client ({"GET": Scope.READ}); a method
      left out is refused to every client (api.permissions).
    - A client's request writes its audit events with the client in their payload
      (workflow.audit.acting_api_client), set after authentication and cleared when the request ends.
    - A POST carrying Idempotency-Key runs under it (api.idempotency): a retry replays the first answer.
    - Its uploads are read by the API's own parser (api.parsers), which answers 413 as a problem.
    """

    required_scopes: dict[str, Scope] = {}
    # The door may answer 410 (withdrawn, with the stub): the schema lists it.
    may_be_withdrawn = False
    # A query parameter names an object through a door (?unit= on the outbox), so a route without an
    # id in its path may answer 404 too: the schema lists it.
    may_be_not_found = False

    @classmethod
    def as_view(cls, **initkwargs):
        view = super().as_view(**initkwargs)
        view.reads_own_uploads = True  # web.uploads.UploadLimitMiddleware leaves the body to the parser
        return view

    def dispatch(self, request, *args, **kwargs):
        # Whatever the request did, the next one on this thread starts without a client.
        client = acting_api_client.set(None)
        try:
            return self._dispatch(request, *args, **kwargs)
        finally:
            acting_api_client.reset(client)

    def initial(self, request, *args, **kwargs):
        super().initial(request, *args, **kwargs)
        if isinstance(request.auth, ApiClient):
            acting_api_client.set({"id": request.auth.pk, "name": request.auth.name})

    def _dispatch(self, request, *args, **kwargs):
        """DRF's APIView.dispatch, with the method's handler run under the idempotency key."""
        self.args, self.kwargs = args, kwargs
        request = self.initialize_request(request, *args, **kwargs)
        self.request = request
        self.headers = self.default_response_headers
        try:
            self.initial(request, *args, **kwargs)
            handler = (
                getattr(self, request.method.lower(), None)
                if request.method.lower() in self.http_method_names
                else None
            )
            handler = handler or self.http_method_not_allowed
            key = request.headers.get(idempotency.HEADER)
            if request.method == "POST" and key is not None:
                self.response = idempotency.respond(
                    request, key, lambda: self._answer(handler, request, *args, **kwargs)
                )
                return self.response
            response = handler(request, *args, **kwargs)
        except Exception as exc:
            response = self.handle_exception(exc)
        self.response = self.finalize_response(request, response, *args, **kwargs)
        return self.response

    def _answer(self, handler, request, *args, **kwargs):
        """The handler's answer, refusals included, finalized and rendered (to be stored)."""
        try:
            response = handler(request, *args, **kwargs)
        except Exception as exc:
            response = self.handle_exception(exc)  # re-raises what is not an API error: a 500, not stored
        response = self.finalize_response(request, response, *args, **kwargs)
        return response.render() if hasattr(response, "render") else response
