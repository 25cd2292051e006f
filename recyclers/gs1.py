"""GS1 identifiers: the check digit shared by GLN, GTIN and SSCC."""

from django.core.exceptions import ValidationError


def gs1_check_digit(digits_without_check: str) -> int:
    """The GS1 mod-10 check digit: weights 3, 1, 3, ... from the right."""
    total = sum(
        int(digit) * (3 if position % 2 == 0 else 1)
        for position, digit in enumerate(reversed(digits_without_check))
    )
    return (10 - total % 10) % 10


def is_valid_gln(value: str) -> bool:
    return (
        len(value) == 13
        and value.isascii()
        and value.isdigit()
        and gs1_check_digit(value[:-1]) == int(value[-1])
    )


def validate_gln(value: str) -> None:
    if not (len(value) == 13 and value.isascii() and value.isdigit()):
        raise ValidationError("A GLN has exactly 13 digits.", code="invalid_gln")
    if not is_valid_gln(value):
        expected = gs1_check_digit(value[:-1])
        raise ValidationError(
            "GLN check digit is %(actual)s, expected %(expected)s.",
            code="invalid_gln_check_digit",
            params={"actual": value[-1], "expected": expected},
        )
