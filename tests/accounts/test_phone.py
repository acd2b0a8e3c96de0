import pytest

from doorstep.accounts.models import mask_phone
from doorstep.accounts.services import AccountError, normalize_phone


@pytest.mark.parametrize(
    "raw",
    [
        "13812345678",
        "+8613812345678",
        "008613812345678",
        "+86 138 1234 5678",
        "138-1234-5678",
        " 0086-138-1234-5678 ",
        "＋８６１３８１２３４５６７８",  # full-width, as some Chinese keyboards type it
        "138–1234–5678",
    ],
)
def test_accepted_forms_normalise_to_plus86(raw):
    assert normalize_phone(raw) == "+8613812345678"


@pytest.mark.parametrize("prefix", ["13", "14", "15", "16", "17", "18", "19"])
def test_every_mobile_prefix(prefix):
    assert normalize_phone(f"{prefix}912345678") == f"+86{prefix}912345678"


@pytest.mark.parametrize(
    "raw",
    [
        "",
        "   ",
        "12812345678",  # second digit 2
        "10012345678",
        "1381234567",  # 10 digits
        "138123456789",  # 12 digits
        "8613812345678",  # 86 without + or 00
        "+85213812345678",  # Hong Kong prefix
        "+1 415 555 0100",
        "021-64471234",  # a landline
        "1381234567a",
        "138 1234 5678 ext 1",
        "١٣٨١٢٣٤٥٦٧٨",  # other digit scripts are not mobile numbers
        "+86+8613812345678",
        "1" * 200,
    ],
)
def test_other_input_is_invalid_phone(raw):
    with pytest.raises(AccountError) as err:
        normalize_phone(raw)
    assert err.value.code == "invalid_phone"
    assert err.value.status == 400


def test_mask_phone():
    assert mask_phone("+8613812345678") == "138****5678"
    assert mask_phone("") == ""
