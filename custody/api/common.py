"""What every view of the partner API shares: parsing input, the Idempotency-Key, and the
relations serializing a lot or an event reads."""


def parsed(input_class, request) -> dict:
    serializer = input_class(data=request.data)
    serializer.is_valid(raise_exception=True)
    arguments = dict(serializer.validated_data)
    if hasattr(serializer, "service_arguments"):
        arguments = serializer.service_arguments()
    return arguments


def parsed_query(input_class, request) -> dict:
    """The query parameters, validated by ``input_class`` (a malformed one is a 400 naming it)."""
    serializer = input_class(data=request.query_params)
    serializer.is_valid(raise_exception=True)
    return dict(serializer.validated_data)


def idempotency_key(request) -> str | None:
    return request.headers.get("Idempotency-Key", "").strip() or None


LOT_RELATIONS = (
    "custodian__organization",
    "destination__organization",
    "source_facility__organization",
    "verdict",
)
