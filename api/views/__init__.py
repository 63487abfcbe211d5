"""The API's views, one module per family. Each is thin: parse, pass the door (workflow.access) or
call the selector, call one service, shape the answer (api.serializers). `ApiView` gives every one
of them the API's conventions (api.authentication, api.permissions, api.idempotency)."""
